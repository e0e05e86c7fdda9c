// An Inception-A module in TOSA (NHWC, OHWI weights; 35x35, channels scaled
// down) becomes graph-level ios ops (NCHW, OIHW weights) that schedule.
// RUN: ios-opt %s --tosa-to-ios | FileCheck %s
// RUN: ios-opt %s --tosa-to-ios="weights=%t.safetensors" | FileCheck %s --check-prefix=PARAMS
// RUN: %python %S/Inputs/check_weights.py %t.safetensors | FileCheck %s --check-prefix=DATA
// RUN: ios-opt %s --tosa-to-ios="weights=%t.safetensors" | ios-opt --ios-schedule | FileCheck %s --check-prefix=SCHED

// CHECK-LABEL: func.func @inception_a(%arg0: tensor<1x12x35x35xf32> {ios.input}) -> tensor<1x20x35x35xf32>
// CHECK-DAG:     %[[B1:.*]] = ios.conv2d %arg0, %{{.*}}, %{{.*}} : (tensor<1x12x35x35xf32>, tensor<4x12x1x1xf32>, tensor<4xf32>) -> tensor<1x4x35x35xf32>
// CHECK-DAG:     %[[R1:.*]] = ios.activation relu %[[B1]]
// CHECK-DAG:     %[[B2:.*]] = ios.conv2d %{{.*}} {padding = array<i64: 2, 2>} : (tensor<1x3x35x35xf32>, tensor<4x3x5x5xf32>, tensor<4xf32>) -> tensor<1x4x35x35xf32>
// CHECK-DAG:     %[[P:.*]] = ios.pool2d avg %arg0 {count_include_pad = false, kernel = array<i64: 3, 3>, padding = array<i64: 1, 1>, strides = array<i64: 1, 1>} : tensor<1x12x35x35xf32> -> tensor<1x12x35x35xf32>
// CHECK:         %[[CAT:.*]] = ios.concat %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} : (tensor<1x4x35x35xf32>, tensor<1x4x35x35xf32>, tensor<1x6x35x35xf32>, tensor<1x6x35x35xf32>) -> tensor<1x20x35x35xf32>
// CHECK:         return %[[CAT]] : tensor<1x20x35x35xf32>

// PARAMS-LABEL: func.func @inception_a(%arg0: tensor<1x12x35x35xf32> {ios.input}
// PARAMS-SAME:    {ios.param = "branch1x1.weight"}
// PARAMS-SAME:    {ios.param = "branch1x1.bias"}
// PARAMS:         ios.conv2d %arg0, %arg1, %arg2

// The weights are permuted: OHWI -> OIHW. The checker prints a tap of
// branch5x5_2 read back both ways.
// DATA: branch5x5_2.weight [4, 3, 5, 5] tap (o=1, i=2, h=3, w=4) = 1.234
// DATA: tensors 14

// The three 1x1 convolutions on the input merge; the rest runs concurrently.
// SCHED: ios.stage merge
// SCHED: ios.stage concurrent

!in = tensor<1x35x35x12xf32>
func.func @inception_a(%x: !in) -> tensor<1x35x35x20xf32> {
  %zp = "tosa.const"() <{values = dense<0.0> : tensor<1xf32>}> : () -> tensor<1xf32>
  %w1 = "tosa.const"() <{values = dense<0.01> : tensor<4x1x1x12xf32>}> : () -> tensor<4x1x1x12xf32> loc("branch1x1.weight")
  %b1 = "tosa.const"() <{values = dense<0.1> : tensor<4xf32>}> : () -> tensor<4xf32>
  %c1 = tosa.conv2d %x, %w1, %b1, %zp, %zp {acc_type = f32, dilation = array<i64: 1, 1>, pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 1, 1>} : (!in, tensor<4x1x1x12xf32>, tensor<4xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x35x35x4xf32> loc("branch1x1")
  %r1 = tosa.clamp %c1 {min_val = 0.0 : f32, max_val = 3.40282347e+38 : f32} : (tensor<1x35x35x4xf32>) -> tensor<1x35x35x4xf32>

  %w21 = "tosa.const"() <{values = dense<0.02> : tensor<3x1x1x12xf32>}> : () -> tensor<3x1x1x12xf32>
  %b21 = "tosa.const"() <{values = dense<0.0> : tensor<3xf32>}> : () -> tensor<3xf32>
  %c21 = tosa.conv2d %x, %w21, %b21, %zp, %zp {acc_type = f32, dilation = array<i64: 1, 1>, pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 1, 1>} : (!in, tensor<3x1x1x12xf32>, tensor<3xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x35x35x3xf32> loc("branch5x5_1")
  %r21 = tosa.clamp %c21 {min_val = 0.0 : f32, max_val = 3.40282347e+38 : f32} : (tensor<1x35x35x3xf32>) -> tensor<1x35x35x3xf32>
  // One tap is distinct: OHWI index (o=1, h=3, w=4, i=2).
  %w22 = "tosa.const"() <{values = dense_resource<w22> : tensor<4x5x5x3xf32>}> : () -> tensor<4x5x5x3xf32>
  %b22 = "tosa.const"() <{values = dense<0.0> : tensor<4xf32>}> : () -> tensor<4xf32>
  %c22 = tosa.conv2d %r21, %w22, %b22, %zp, %zp {acc_type = f32, dilation = array<i64: 1, 1>, pad = array<i64: 2, 2, 2, 2>, stride = array<i64: 1, 1>} : (tensor<1x35x35x3xf32>, tensor<4x5x5x3xf32>, tensor<4xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x35x35x4xf32> loc("branch5x5_2")
  %r22 = tosa.clamp %c22 {min_val = 0.0 : f32, max_val = 3.40282347e+38 : f32} : (tensor<1x35x35x4xf32>) -> tensor<1x35x35x4xf32>

  %w31 = "tosa.const"() <{values = dense<0.03> : tensor<4x1x1x12xf32>}> : () -> tensor<4x1x1x12xf32>
  %b31 = "tosa.const"() <{values = dense<0.0> : tensor<4xf32>}> : () -> tensor<4xf32>
  %c31 = tosa.conv2d %x, %w31, %b31, %zp, %zp {acc_type = f32, dilation = array<i64: 1, 1>, pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 1, 1>} : (!in, tensor<4x1x1x12xf32>, tensor<4xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x35x35x4xf32> loc("branch3x3dbl_1")
  %r31 = tosa.clamp %c31 {min_val = 0.0 : f32, max_val = 3.40282347e+38 : f32} : (tensor<1x35x35x4xf32>) -> tensor<1x35x35x4xf32>
  %w32 = "tosa.const"() <{values = dense<0.04> : tensor<6x3x3x4xf32>}> : () -> tensor<6x3x3x4xf32>
  %b32 = "tosa.const"() <{values = dense<0.0> : tensor<6xf32>}> : () -> tensor<6xf32>
  %c32 = tosa.conv2d %r31, %w32, %b32, %zp, %zp {acc_type = f32, dilation = array<i64: 1, 1>, pad = array<i64: 1, 1, 1, 1>, stride = array<i64: 1, 1>} : (tensor<1x35x35x4xf32>, tensor<6x3x3x4xf32>, tensor<6xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x35x35x6xf32> loc("branch3x3dbl_2")
  %r32 = tosa.clamp %c32 {min_val = 0.0 : f32, max_val = 3.40282347e+38 : f32} : (tensor<1x35x35x6xf32>) -> tensor<1x35x35x6xf32>
  %w33 = "tosa.const"() <{values = dense<0.05> : tensor<6x3x3x6xf32>}> : () -> tensor<6x3x3x6xf32>
  %b33 = "tosa.const"() <{values = dense<0.0> : tensor<6xf32>}> : () -> tensor<6xf32>
  %c33 = tosa.conv2d %r32, %w33, %b33, %zp, %zp {acc_type = f32, dilation = array<i64: 1, 1>, pad = array<i64: 1, 1, 1, 1>, stride = array<i64: 1, 1>} : (tensor<1x35x35x6xf32>, tensor<6x3x3x6xf32>, tensor<6xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x35x35x6xf32> loc("branch3x3dbl_3")
  %r33 = tosa.clamp %c33 {min_val = 0.0 : f32, max_val = 3.40282347e+38 : f32} : (tensor<1x35x35x6xf32>) -> tensor<1x35x35x6xf32>

  %p = tosa.avg_pool2d %x, %zp, %zp {acc_type = f32, kernel = array<i64: 3, 3>, pad = array<i64: 1, 1, 1, 1>, stride = array<i64: 1, 1>} : (!in, tensor<1xf32>, tensor<1xf32>) -> !in loc("branch_pool.pool")
  %w4 = "tosa.const"() <{values = dense<0.06> : tensor<6x1x1x12xf32>}> : () -> tensor<6x1x1x12xf32>
  %b4 = "tosa.const"() <{values = dense<0.0> : tensor<6xf32>}> : () -> tensor<6xf32>
  %c4 = tosa.conv2d %p, %w4, %b4, %zp, %zp {acc_type = f32, dilation = array<i64: 1, 1>, pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 1, 1>} : (!in, tensor<6x1x1x12xf32>, tensor<6xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x35x35x6xf32> loc("branch_pool")
  %r4 = tosa.clamp %c4 {min_val = 0.0 : f32, max_val = 3.40282347e+38 : f32} : (tensor<1x35x35x6xf32>) -> tensor<1x35x35x6xf32>

  %cat = tosa.concat %r1, %r22, %r33, %r4 {axis = 3 : i32} : (tensor<1x35x35x4xf32>, tensor<1x35x35x4xf32>, tensor<1x35x35x6xf32>, tensor<1x35x35x6xf32>) -> tensor<1x35x35x20xf32>
  return %cat : tensor<1x35x35x20xf32>
}

{-#
  dialect_resources: {
    builtin: {
      w22: "0x040000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000B6F39D3F000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
    }
  }
#-}
