// Two inputs and two outputs of other shapes, one of rank 2 (main.test).
!in = tensor<2x4x6x6xf32>
func.func @duo(%x: !in {ios.input}, %y: !in {ios.input},
               %w: tensor<3x144xf32> {ios.param = "fc.w"},
               %b: tensor<3xf32> {ios.param = "fc.b"})
    -> (tensor<2x4x3x3xf32>, tensor<2x3xf32>) {
  %s = ios.add %x, %y : !in
  %p = ios.pool2d max %s {kernel = array<i64: 2, 2>, strides = array<i64: 2, 2>} : !in -> tensor<2x4x3x3xf32>
  %f = ios.flatten %s : !in -> tensor<2x144xf32>
  %l = ios.linear %f, %w, %b : (tensor<2x144xf32>, tensor<3x144xf32>, tensor<3xf32>) -> tensor<2x3xf32>
  return %p, %l : tensor<2x4x3x3xf32>, tensor<2x3xf32>
}
