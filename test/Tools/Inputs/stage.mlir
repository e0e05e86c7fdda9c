// The one-stage function ios-stage-server builds for the request of
// stage-lowering.test (its EDGES stage): arguments in the order the server
// creates them, ops named as it names them.
func.func @stage(%x0: tensor<2x8x8x8xf32> {ios.input},
                 %w0: tensor<16x8x3x3xf32> {ios.param = "group 0 op 0 (conv).weight"},
                 %b0: tensor<16xf32> {ios.param = "group 0 op 0 (conv).bias"},
                 %x1: tensor<2x8x8x8xf32> {ios.input},
                 %w1: tensor<4x8x1x1xf32> {ios.param = "group 0 op 1 (conv).weight"},
                 %b1: tensor<4xf32> {ios.param = "group 0 op 1 (conv).bias"},
                 %x2: tensor<2x8x8x8xf32> {ios.input},
                 %w2: tensor<8x8x1x1xf32> {ios.param = "group 1 op 0 (conv).weight"},
                 %b2: tensor<8xf32> {ios.param = "group 1 op 0 (conv).bias"})
    -> (tensor<2x20x8x8xf32>, tensor<2x8x8x8xf32>) {
  %s:2 = ios.stage concurrent latency_ms = 0.0 {
    %g0 = ios.group {
      %0 = ios.conv2d %x0, %w0, %b0 {padding = array<i64: 1, 1>, act = #ios.act<relu>}
         : (tensor<2x8x8x8xf32>, tensor<16x8x3x3xf32>, tensor<16xf32>) -> tensor<2x16x8x8xf32> loc("group 0 op 0 (conv)")
      %1 = ios.conv2d %x1, %w1, %b1 {act = #ios.act<relu>}
         : (tensor<2x8x8x8xf32>, tensor<4x8x1x1xf32>, tensor<4xf32>) -> tensor<2x4x8x8xf32> loc("group 0 op 1 (conv)")
      %2 = ios.concat %1, %0 : (tensor<2x4x8x8xf32>, tensor<2x16x8x8xf32>) -> tensor<2x20x8x8xf32> loc("group 0 op 2 (concat)")
      ios.yield %2 : tensor<2x20x8x8xf32>
    } -> tensor<2x20x8x8xf32>
    %g1 = ios.group {
      %3 = ios.conv2d %x2, %w2, %b2 {act = #ios.act<relu>}
         : (tensor<2x8x8x8xf32>, tensor<8x8x1x1xf32>, tensor<8xf32>) -> tensor<2x8x8x8xf32> loc("group 1 op 0 (conv)")
      ios.yield %3 : tensor<2x8x8x8xf32>
    } -> tensor<2x8x8x8xf32>
    ios.yield %g0, %g1 : tensor<2x20x8x8xf32>, tensor<2x8x8x8xf32>
  } -> tensor<2x20x8x8xf32>, tensor<2x8x8x8xf32>
  return %s#0, %s#1 : tensor<2x20x8x8xf32>, tensor<2x8x8x8xf32>
}
