// RUN: ios-opt %s -split-input-file --tosa-to-ios -verify-diagnostics

// Every function is checked before any changes: the first unsupported op
// is reported at its location.
func.func @unsupported(%x: tensor<1x4x4x2xf32>) -> tensor<1x4x4x2xf32> {
  // expected-error @+1 {{'tosa.sub' cannot be converted to ios (supported: tosa.conv2d, depthwise_conv2d, max_pool2d, avg_pool2d, add, mul, concat, clamp, sigmoid, tanh, reshape, matmul, const)}}
  %y = tosa.sub %x, %x : (tensor<1x4x4x2xf32>, tensor<1x4x4x2xf32>) -> tensor<1x4x4x2xf32>
  return %y : tensor<1x4x4x2xf32>
}

// -----

func.func @runtime_weight(%x: tensor<1x4x4x2xf32>, %w: tensor<2x1x1x2xf32>) -> tensor<1x4x4x2xf32> {
  %zp = "tosa.const"() <{values = dense<0.0> : tensor<1xf32>}> : () -> tensor<1xf32>
  %b = "tosa.const"() <{values = dense<0.0> : tensor<2xf32>}> : () -> tensor<2xf32>
  // expected-error @+1 {{'tosa.conv2d' needs constant f32 weights and bias}}
  %c = tosa.conv2d %x, %w, %b, %zp, %zp {acc_type = f32, dilation = array<i64: 1, 1>, pad = array<i64: 0, 0, 0, 0>, stride = array<i64: 1, 1>} : (tensor<1x4x4x2xf32>, tensor<2x1x1x2xf32>, tensor<2xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x4x4x2xf32>
  return %c : tensor<1x4x4x2xf32>
}

// -----

func.func @clamp(%x: tensor<1x4x4x2xf32>) -> tensor<1x4x4x2xf32> {
  // expected-error @+1 {{'tosa.clamp' clamps to [-1, 1]; ios has relu [0, inf) and relu6 [0, 6]}}
  %y = tosa.clamp %x {min_val = -1.0 : f32, max_val = 1.0 : f32} : (tensor<1x4x4x2xf32>) -> tensor<1x4x4x2xf32>
  return %y : tensor<1x4x4x2xf32>
}

// -----

func.func @reshape(%x: tensor<1x4x4x2xf32>) -> tensor<1x32xf32> {
  %s = tosa.const_shape {values = dense<[1, 32]> : tensor<2xindex>} : () -> !tosa.shape<2>
  // expected-error @+1 {{'tosa.reshape' reshapes 'tensor<1x4x4x2xf32>' to 'tensor<1x32xf32>'; ios reshapes [N, 1, 1, C] to [N, C] and [N, K] to and from [1, N, K] only (other reshapes depend on the NHWC element order)}}
  %y = tosa.reshape %x, %s : (tensor<1x4x4x2xf32>, !tosa.shape<2>) -> tensor<1x32xf32>
  return %y : tensor<1x32xf32>
}

// -----

func.func @concat_axis(%x: tensor<1x4x4x2xf32>) -> tensor<1x8x4x2xf32> {
  // expected-error @+1 {{'tosa.concat' concatenates along axis 1 of a rank-4 tensor; ios concatenates NHWC channels (axis 3) only}}
  %y = tosa.concat %x, %x {axis = 1 : i32} : (tensor<1x4x4x2xf32>, tensor<1x4x4x2xf32>) -> tensor<1x8x4x2xf32>
  return %y : tensor<1x8x4x2xf32>
}

// -----

func.func @avg_pad(%x: tensor<1x5x5x2xf32>) -> tensor<1x3x3x2xf32> {
  %zp = "tosa.const"() <{values = dense<0.0> : tensor<1xf32>}> : () -> tensor<1xf32>
  // expected-error @+1 {{'tosa.avg_pool2d' pads [0, 1, 0, 1] are asymmetric or exceed half the kernel, which ios cannot average over}}
  %p = tosa.avg_pool2d %x, %zp, %zp {acc_type = f32, kernel = array<i64: 2, 2>, pad = array<i64: 0, 1, 0, 1>, stride = array<i64: 2, 2>} : (tensor<1x5x5x2xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x3x3x2xf32>
  return %p : tensor<1x3x3x2xf32>
}

// -----

func.func @broadcast(%x: tensor<1x4x4x2xf32>, %y: tensor<1x4x1x2xf32>) -> tensor<1x4x4x2xf32> {
  // expected-error @+1 {{'tosa.add' broadcasts 'tensor<1x4x4x2xf32>' against 'tensor<1x4x1x2xf32>'; ios broadcasts [N, 1, 1, C] over [N, H, W, C] only}}
  %z = tosa.add %x, %y : (tensor<1x4x4x2xf32>, tensor<1x4x1x2xf32>) -> tensor<1x4x4x2xf32>
  return %z : tensor<1x4x4x2xf32>
}

// -----

func.func @matmul(%a: tensor<1x2x8xf32>, %b: tensor<1x8x3xf32>) -> tensor<1x2x3xf32> {
  %zp = "tosa.const"() <{values = dense<0.0> : tensor<1xf32>}> : () -> tensor<1xf32>
  // expected-error @+1 {{'tosa.matmul' needs a constant right-hand side (a fully connected layer)}}
  %m = tosa.matmul %a, %b, %zp, %zp : (tensor<1x2x8xf32>, tensor<1x8x3xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x2x3xf32>
  return %m : tensor<1x2x3xf32>
}

// -----

// expected-error @+1 {{argument #0 of type 'tensor<1x4x4x2xi8>' has no ios layout (f32 tensors of rank 2 or 4)}}
func.func @integer(%x: tensor<1x4x4x2xi8>) -> tensor<1x4x4x2xi8> {
  %y = tosa.abs %x : (tensor<1x4x4x2xi8>) -> tensor<1x4x4x2xi8>
  return %y : tensor<1x4x4x2xi8>
}
