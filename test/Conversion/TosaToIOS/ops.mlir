// RUN: ios-opt %s -split-input-file --tosa-to-ios | FileCheck %s

// Depthwise convolution: HWCM weights [3, 3, 4, 2] become [8, 1, 3, 3] with
// groups = 4; asymmetric padding becomes an ios.pad plus the symmetric part.
// CHECK-LABEL: func.func @depthwise(%arg0: tensor<1x4x8x8xf32> {ios.input}) -> tensor<1x8x7x7xf32>
// CHECK:         %[[P:.*]] = ios.pad %arg0 {pads = array<i64: 0, 0, 1, 1>} : tensor<1x4x8x8xf32> -> tensor<1x4x9x9xf32>
// CHECK:         ios.conv2d %[[P]], %{{.*}}, %{{.*}} {groups = 4 : i64} : (tensor<1x4x9x9xf32>, tensor<8x1x3x3xf32>, tensor<8xf32>) -> tensor<1x8x7x7xf32>
// The relu6 clamp:
// CHECK:         ios.activation relu6
func.func @depthwise(%x: tensor<1x8x8x4xf32>) -> tensor<1x7x7x8xf32> {
  %zp = "tosa.const"() <{values = dense<0.0> : tensor<1xf32>}> : () -> tensor<1xf32>
  %w = "tosa.const"() <{values = dense<0.1> : tensor<3x3x4x2xf32>}> : () -> tensor<3x3x4x2xf32>
  %b = "tosa.const"() <{values = dense<0.0> : tensor<8xf32>}> : () -> tensor<8xf32>
  %c = tosa.depthwise_conv2d %x, %w, %b, %zp, %zp {acc_type = f32, dilation = array<i64: 1, 1>, pad = array<i64: 0, 1, 0, 1>, stride = array<i64: 1, 1>} : (tensor<1x8x8x4xf32>, tensor<3x3x4x2xf32>, tensor<8xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x7x7x8xf32>
  %r = tosa.clamp %c {min_val = 0.0 : f32, max_val = 6.0 : f32} : (tensor<1x7x7x8xf32>) -> tensor<1x7x7x8xf32>
  return %r : tensor<1x7x7x8xf32>
}

// -----

// Max pooling: padding beyond half the kernel is an explicit ios.pad with
// the lowest float.
// CHECK-LABEL: func.func @max_pool
// CHECK:         ios.pad %arg0 {pads = array<i64: 1, 1, 1, 1>, value = -3.40282347E+38 : f32}
// CHECK:         ios.pool2d max %{{.*}} {kernel = array<i64: 3, 3>, padding = array<i64: 1, 1>, strides = array<i64: 2, 2>} : tensor<1x4x11x11xf32> -> tensor<1x4x6x6xf32>
func.func @max_pool(%x: tensor<1x9x9x4xf32>) -> tensor<1x6x6x4xf32> {
  %p = tosa.max_pool2d %x {kernel = array<i64: 3, 3>, pad = array<i64: 2, 2, 2, 2>, stride = array<i64: 2, 2>} : (tensor<1x9x9x4xf32>) -> tensor<1x6x6x4xf32>
  return %p : tensor<1x6x6x4xf32>
}

// -----

// Squeeze-and-excitation: a [N, 1, 1, C] gate multiplies [N, H, W, C].
// CHECK-LABEL: func.func @excite
// CHECK:         %[[G:.*]] = ios.activation sigmoid %arg1 : tensor<1x4x1x1xf32>
// CHECK:         ios.mul %arg0, %[[G]] : tensor<1x4x8x8xf32>, tensor<1x4x1x1xf32>
func.func @excite(%x: tensor<1x8x8x4xf32>, %s: tensor<1x1x1x4xf32>) -> tensor<1x8x8x4xf32> {
  %shift = "tosa.const"() <{values = dense<0> : tensor<1xi8>}> : () -> tensor<1xi8>
  %g = tosa.sigmoid %s : (tensor<1x1x1x4xf32>) -> tensor<1x1x1x4xf32>
  %y = tosa.mul %x, %g, %shift : (tensor<1x8x8x4xf32>, tensor<1x1x1x4xf32>, tensor<1xi8>) -> tensor<1x8x8x4xf32>
  return %y : tensor<1x8x8x4xf32>
}

// -----

// A classifier head: [N, 1, 1, C] -> [N, C], a fully connected layer as
// reshape + matmul + bias add.
// CHECK-LABEL: func.func @head(%arg0: tensor<2x8x1x1xf32> {ios.input}) -> tensor<2x3xf32>
// CHECK:         %[[F:.*]] = ios.flatten %arg0 : tensor<2x8x1x1xf32> -> tensor<2x8xf32>
// CHECK:         %[[L:.*]] = ios.linear %[[F]], %{{.*}}, %{{.*}} : (tensor<2x8xf32>, tensor<3x8xf32>, tensor<3xf32>) -> tensor<2x3xf32>
// CHECK:         %[[A:.*]] = ios.affine %[[L]], %{{.*}}, %{{.*}} : tensor<2x3xf32>, tensor<3xf32>, tensor<3xf32>
// CHECK:         return %[[A]] : tensor<2x3xf32>
func.func @head(%x: tensor<2x1x1x8xf32>) -> tensor<2x3xf32> {
  %zp = "tosa.const"() <{values = dense<0.0> : tensor<1xf32>}> : () -> tensor<1xf32>
  %s2 = tosa.const_shape {values = dense<[2, 8]> : tensor<2xindex>} : () -> !tosa.shape<2>
  %f = tosa.reshape %x, %s2 : (tensor<2x1x1x8xf32>, !tosa.shape<2>) -> tensor<2x8xf32>
  %s3 = tosa.const_shape {values = dense<[1, 2, 8]> : tensor<3xindex>} : () -> !tosa.shape<3>
  %f3 = tosa.reshape %f, %s3 : (tensor<2x8xf32>, !tosa.shape<3>) -> tensor<1x2x8xf32>
  %w = "tosa.const"() <{values = dense<0.5> : tensor<1x8x3xf32>}> : () -> tensor<1x8x3xf32>
  %m = tosa.matmul %f3, %w, %zp, %zp : (tensor<1x2x8xf32>, tensor<1x8x3xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x2x3xf32>
  %b = "tosa.const"() <{values = dense<0.25> : tensor<1x1x3xf32>}> : () -> tensor<1x1x3xf32>
  %a = tosa.add %m, %b : (tensor<1x2x3xf32>, tensor<1x1x3xf32>) -> tensor<1x2x3xf32>
  %s23 = tosa.const_shape {values = dense<[2, 3]> : tensor<2xindex>} : () -> !tosa.shape<2>
  %o = tosa.reshape %a, %s23 : (tensor<1x2x3xf32>, !tosa.shape<2>) -> tensor<2x3xf32>
  return %o : tensor<2x3xf32>
}
