// RUN: ios-opt %s -split-input-file -verify-diagnostics

// Every verifier message of the ios dialect, one case each.

func.func @conv_dynamic(%x: tensor<?x8x9x9xf32>, %w: tensor<16x8x3x3xf32>, %b: tensor<16xf32>) {
  // expected-error @+1 {{'ios.conv2d' op expects the input to be a statically shaped f32 tensor, got 'tensor<?x8x9x9xf32>'}}
  %0 = ios.conv2d %x, %w, %b : (tensor<?x8x9x9xf32>, tensor<16x8x3x3xf32>, tensor<16xf32>) -> tensor<1x16x7x7xf32>
  return
}

// -----

func.func @conv_strides_rank(%x: tensor<1x8x9x9xf32>, %w: tensor<16x8x3x3xf32>, %b: tensor<16xf32>) {
  // expected-error @+1 {{'ios.conv2d' op expects 'strides' to have 2 elements (h, w), got 3}}
  %0 = ios.conv2d %x, %w, %b {strides = array<i64: 1, 1, 1>} : (tensor<1x8x9x9xf32>, tensor<16x8x3x3xf32>, tensor<16xf32>) -> tensor<1x16x7x7xf32>
  return
}

// -----

func.func @conv_zero_stride(%x: tensor<1x8x9x9xf32>, %w: tensor<16x8x3x3xf32>, %b: tensor<16xf32>) {
  // expected-error @+1 {{'ios.conv2d' op expects positive 'strides', got [0, 1]}}
  %0 = ios.conv2d %x, %w, %b {strides = array<i64: 0, 1>} : (tensor<1x8x9x9xf32>, tensor<16x8x3x3xf32>, tensor<16xf32>) -> tensor<1x16x7x7xf32>
  return
}

// -----

func.func @conv_negative_padding(%x: tensor<1x8x9x9xf32>, %w: tensor<16x8x3x3xf32>, %b: tensor<16xf32>) {
  // expected-error @+1 {{'ios.conv2d' op expects non-negative 'padding', got [-1, 1]}}
  %0 = ios.conv2d %x, %w, %b {padding = array<i64: -1, 1>} : (tensor<1x8x9x9xf32>, tensor<16x8x3x3xf32>, tensor<16xf32>) -> tensor<1x16x7x7xf32>
  return
}

// -----

func.func @conv_zero_dilation(%x: tensor<1x8x9x9xf32>, %w: tensor<16x8x3x3xf32>, %b: tensor<16xf32>) {
  // expected-error @+1 {{'ios.conv2d' op expects positive 'dilations', got [1, 0]}}
  %0 = ios.conv2d %x, %w, %b {dilations = array<i64: 1, 0>} : (tensor<1x8x9x9xf32>, tensor<16x8x3x3xf32>, tensor<16xf32>) -> tensor<1x16x7x7xf32>
  return
}

// -----

func.func @conv_window_too_big(%x: tensor<1x8x4x4xf32>, %w: tensor<16x8x5x5xf32>, %b: tensor<16xf32>) {
  // expected-error @+1 {{'ios.conv2d' op window of 5 along height exceeds the padded input size 4}}
  %0 = ios.conv2d %x, %w, %b : (tensor<1x8x4x4xf32>, tensor<16x8x5x5xf32>, tensor<16xf32>) -> tensor<1x16x1x1xf32>
  return
}

// -----

func.func @conv_zero_groups(%x: tensor<1x8x9x9xf32>, %w: tensor<16x8x3x3xf32>, %b: tensor<16xf32>) {
  // expected-error @+1 {{'ios.conv2d' op expects a positive group count, got 0}}
  %0 = ios.conv2d %x, %w, %b {groups = 0 : i64} : (tensor<1x8x9x9xf32>, tensor<16x8x3x3xf32>, tensor<16xf32>) -> tensor<1x16x7x7xf32>
  return
}

// -----

func.func @conv_bad_groups(%x: tensor<1x8x9x9xf32>, %w: tensor<16x8x3x3xf32>, %b: tensor<16xf32>) {
  // expected-error @+1 {{'ios.conv2d' op group count 3 must divide the input channels (8) and the output channels (16)}}
  %0 = ios.conv2d %x, %w, %b {groups = 3 : i64} : (tensor<1x8x9x9xf32>, tensor<16x8x3x3xf32>, tensor<16xf32>) -> tensor<1x16x7x7xf32>
  return
}

// -----

func.func @conv_weight_channels(%x: tensor<1x8x9x9xf32>, %w: tensor<16x8x3x3xf32>, %b: tensor<16xf32>) {
  // expected-error @+1 {{'ios.conv2d' op weight has 8 input channels per group, expected 4 (8 input channels / 2 groups)}}
  %0 = ios.conv2d %x, %w, %b {groups = 2 : i64} : (tensor<1x8x9x9xf32>, tensor<16x8x3x3xf32>, tensor<16xf32>) -> tensor<1x16x7x7xf32>
  return
}

// -----

func.func @conv_bias(%x: tensor<1x8x9x9xf32>, %w: tensor<16x8x3x3xf32>, %b: tensor<10xf32>) {
  // expected-error @+1 {{'ios.conv2d' op bias has 10 elements, expected 16 (one per output channel)}}
  %0 = ios.conv2d %x, %w, %b : (tensor<1x8x9x9xf32>, tensor<16x8x3x3xf32>, tensor<10xf32>) -> tensor<1x16x7x7xf32>
  return
}

// -----

func.func @conv_wrong_result(%x: tensor<1x8x9x9xf32>, %w: tensor<16x8x3x3xf32>, %b: tensor<16xf32>) {
  // expected-error @+1 {{'ios.conv2d' op result type 'tensor<1x16x9x9xf32>' does not match the inferred type 'tensor<1x16x7x7xf32>'}}
  %0 = ios.conv2d %x, %w, %b : (tensor<1x8x9x9xf32>, tensor<16x8x3x3xf32>, tensor<16xf32>) -> tensor<1x16x9x9xf32>
  return
}

// -----

func.func @pool_global_window(%x: tensor<1x8x9x9xf32>) {
  // expected-error @+1 {{'ios.pool2d' op global pooling takes no kernel, strides, padding or ceil_mode}}
  %0 = ios.pool2d global_avg %x {kernel = array<i64: 9, 9>} : tensor<1x8x9x9xf32> -> tensor<1x8x1x1xf32>
  return
}

// -----

func.func @pool_no_kernel(%x: tensor<1x8x9x9xf32>) {
  // expected-error @+1 {{'ios.pool2d' op expects a 'kernel' for max pooling}}
  %0 = ios.pool2d max %x : tensor<1x8x9x9xf32> -> tensor<1x8x9x9xf32>
  return
}

// -----

func.func @pool_padding(%x: tensor<1x8x9x9xf32>) {
  // expected-error @+1 {{'ios.pool2d' op padding [2, 2] must be at most half the kernel [3, 3]}}
  %0 = ios.pool2d avg %x {kernel = array<i64: 3, 3>, padding = array<i64: 2, 2>} : tensor<1x8x9x9xf32> -> tensor<1x8x4x4xf32>
  return
}

// -----

func.func @pool_kind(%x: tensor<1x8x9x9xf32>) {
  // expected-error @+1 {{expected one of 'max', 'avg', 'global_max', 'global_avg', got 'min'}}
  %0 = ios.pool2d min %x {kernel = array<i64: 3, 3>} : tensor<1x8x9x9xf32> -> tensor<1x8x3x3xf32>
  return
}

// -----

func.func @activation_none(%x: tensor<1x8x9x9xf32>) {
  // expected-error @+1 {{'ios.activation' op expects an activation kind other than none}}
  %0 = ios.activation none %x : tensor<1x8x9x9xf32>
  return
}

// -----

func.func @add_one_operand(%x: tensor<1x8x9x9xf32>) {
  // expected-error @+1 {{'ios.add' op expects at least two operands, got 1}}
  %0 = ios.add %x : tensor<1x8x9x9xf32>
  return
}

// -----

func.func @add_types(%x: tensor<1x8x9x9xf32>, %y: tensor<1x4x9x9xf32>) {
  // expected-error @+1 {{'ios.add' op operand #1 has type 'tensor<1x4x9x9xf32>', expected 'tensor<1x8x9x9xf32>' or its (N, C, 1, 1) broadcast}}
  %0 = "ios.add"(%x, %y) : (tensor<1x8x9x9xf32>, tensor<1x4x9x9xf32>) -> tensor<1x8x9x9xf32>
  return
}

// -----

func.func @mul_types(%x: tensor<1x8x9x9xf32>, %y: tensor<1x4x9x9xf32>) {
  // expected-error @+1 {{'ios.mul' op operand #1 has type 'tensor<1x4x9x9xf32>', expected 'tensor<1x8x9x9xf32>' or its (N, C, 1, 1) broadcast}}
  %0 = "ios.mul"(%x, %y) : (tensor<1x8x9x9xf32>, tensor<1x4x9x9xf32>) -> tensor<1x8x9x9xf32>
  return
}

// -----

func.func @concat_one(%x: tensor<1x8x9x9xf32>) {
  // expected-error @+1 {{'ios.concat' op expects at least two operands, got 1}}
  %0 = ios.concat %x : (tensor<1x8x9x9xf32>) -> tensor<1x8x9x9xf32>
  return
}

// -----

func.func @concat_spatial(%x: tensor<1x8x9x9xf32>, %y: tensor<1x8x7x7xf32>) {
  // expected-error @+1 {{'ios.concat' op operand #1 has type 'tensor<1x8x7x7xf32>', whose batch or spatial size differs from operand #0 ('tensor<1x8x9x9xf32>')}}
  %0 = ios.concat %x, %y : (tensor<1x8x9x9xf32>, tensor<1x8x7x7xf32>) -> tensor<1x16x9x9xf32>
  return
}

// -----

func.func @slice_bounds(%x: tensor<1x16x4x4xf32>) {
  // expected-error @+1 {{'ios.slice' op channel range [8, 20) is empty or out of bounds for 16 channels}}
  %0 = ios.slice %x[8:20] : tensor<1x16x4x4xf32> -> tensor<1x12x4x4xf32>
  return
}

// -----

func.func @slice_empty(%x: tensor<1x16x4x4xf32>) {
  // expected-error @+1 {{'ios.slice' op channel range [8, 8) is empty or out of bounds for 16 channels}}
  %0 = ios.slice %x[8:8] : tensor<1x16x4x4xf32> -> tensor<1x0x4x4xf32>
  return
}

// -----

func.func @flatten_dynamic(%x: tensor<1x16x?x4xf32>) {
  // expected-error @+1 {{'ios.flatten' op expects the input to be a statically shaped f32 tensor}}
  %0 = ios.flatten %x : tensor<1x16x?x4xf32> -> tensor<1x64xf32>
  return
}

// -----

func.func @linear_features(%x: tensor<1x20xf32>, %w: tensor<5x10xf32>, %b: tensor<5xf32>) {
  // expected-error @+1 {{'ios.linear' op weight has 10 input features, expected 20 (the input's)}}
  %0 = ios.linear %x, %w, %b : (tensor<1x20xf32>, tensor<5x10xf32>, tensor<5xf32>) -> tensor<1x5xf32>
  return
}

// -----

func.func @linear_bias(%x: tensor<1x10xf32>, %w: tensor<5x10xf32>, %b: tensor<6xf32>) {
  // expected-error @+1 {{'ios.linear' op bias has 6 elements, expected 5 (one per output feature)}}
  %0 = ios.linear %x, %w, %b : (tensor<1x10xf32>, tensor<5x10xf32>, tensor<6xf32>) -> tensor<1x5xf32>
  return
}

// -----

func.func @softmax_dynamic(%x: tensor<?x10xf32>) {
  // expected-error @+1 {{'ios.softmax' op expects the input to be a statically shaped f32 tensor}}
  %0 = ios.softmax %x : tensor<?x10xf32>
  return
}

// -----

// Dialect attributes.

// expected-error @+1 {{unknown ios argument attribute 'ios.weights'}}
func.func @arg_unknown(%x: tensor<4xf32> {ios.weights = "w"}) {
  return
}

// -----

// expected-error @+1 {{'ios.param' on argument #0 must be a non-empty string}}
func.func @param_empty(%x: tensor<4xf32> {ios.param = ""}) {
  return
}

// -----

// expected-error @+1 {{parameter 'w' must be a statically shaped f32 tensor, got 'tensor<?xf32>'}}
func.func @param_dynamic(%x: tensor<?xf32> {ios.param = "w"}) {
  return
}

// -----

// expected-error @+1 {{parameter name 'w' is used by arguments #0 and #1}}
func.func @param_twice(%x: tensor<4xf32> {ios.param = "w"}, %y: tensor<4xf32> {ios.param = "w"}) {
  return
}

// -----

// expected-error @+1 {{'ios.input' must be a unit attribute}}
func.func @input_value(%x: tensor<4xf32> {ios.input = 1 : i64}) {
  return
}

// -----

func.func @unit_empty(%x: tensor<1x4x2x2xf32>) {
  // expected-error @+1 {{'ios.unit' must be a non-empty string}}
  %0 = ios.activation relu %x {ios.unit = ""} : tensor<1x4x2x2xf32>
  return
}

// -----

func.func @unit_not_graph_op() {
  // expected-error @+1 {{'ios.unit' is only valid on schedulable ops}}
  return {ios.unit = "u"}
}

// -----

func.func @part_negative(%x: tensor<1x4x2x2xf32>) {
  // expected-error @+1 {{'ios.part' must be a non-negative integer}}
  %0 = ios.activation relu %x {ios.part = -1 : i64} : tensor<1x4x2x2xf32>
  return
}

// -----

func.func @part_not_graph_op() {
  // expected-error @+1 {{'ios.part' is only valid on schedulable ops}}
  return {ios.part = 1 : i64}
}

// -----

func.func @param_on_op(%x: tensor<1x4x2x2xf32>) {
  // expected-error @+1 {{'ios.param' is only valid on function arguments}}
  %0 = ios.activation relu %x {ios.param = "w"} : tensor<1x4x2x2xf32>
  return
}

// -----

func.func @unknown_op_attr(%x: tensor<1x4x2x2xf32>) {
  // expected-error @+1 {{unknown ios attribute 'ios.colour'}}
  %0 = ios.activation relu %x {ios.colour = "red"} : tensor<1x4x2x2xf32>
  return
}

// -----

// An attribute the op does not define is an error, not silently ignored.
func.func @unknown_attribute(%x: tensor<1x4x8x8xf32>) -> tensor<1x4x4x4xf32> {
  // expected-error @+1 {{'ios.pool2d' op has no attribute 'ceil_mod' (it would be ignored)}}
  %0 = ios.pool2d max %x {kernel = array<i64: 2, 2>, ceil_mod} : tensor<1x4x8x8xf32> -> tensor<1x4x4x4xf32>
  return %0 : tensor<1x4x4x4xf32>
}

// -----

func.func @count_include_pad_on_max(%x: tensor<1x4x8x8xf32>) -> tensor<1x4x4x4xf32> {
  // expected-error @+1 {{'ios.pool2d' op count_include_pad applies to avg pooling only}}
  %0 = ios.pool2d max %x {kernel = array<i64: 2, 2>, count_include_pad = false} : tensor<1x4x8x8xf32> -> tensor<1x4x4x4xf32>
  return %0 : tensor<1x4x4x4xf32>
}

// -----

func.func @ceil_mode_global(%x: tensor<1x4x8x8xf32>) -> tensor<1x4x1x1xf32> {
  // expected-error @+1 {{'ios.pool2d' op global pooling takes no kernel, strides, padding or ceil_mode}}
  %0 = ios.pool2d global_avg %x {ceil_mode} : tensor<1x4x8x8xf32> -> tensor<1x4x1x1xf32>
  return %0 : tensor<1x4x1x1xf32>
}

// -----

func.func @ceil_mode_size(%x: tensor<1x4x7x7xf32>) -> tensor<1x4x3x3xf32> {
  // ceil(5 / 2) + 1 = 4: the last window starts at 6 < 7.
  // expected-error @+1 {{'ios.pool2d' op result type 'tensor<1x4x3x3xf32>' does not match the inferred type 'tensor<1x4x4x4xf32>'}}
  %0 = ios.pool2d max %x {kernel = array<i64: 2, 2>, strides = array<i64: 2, 2>, ceil_mode} : tensor<1x4x7x7xf32> -> tensor<1x4x3x3xf32>
  return %0 : tensor<1x4x3x3xf32>
}

// -----

func.func @pad_negative(%x: tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32> {
  // expected-error @+1 {{'ios.pad' op expects 'pads' to be 4 non-negative values (top, left, bottom, right)}}
  %0 = ios.pad %x {pads = array<i64: 1, -1, 0, 0>} : tensor<1x4x8x8xf32> -> tensor<1x4x8x8xf32>
  return %0 : tensor<1x4x8x8xf32>
}

// -----

func.func @pad_infinite(%x: tensor<1x4x8x8xf32>) -> tensor<1x4x9x9xf32> {
  // expected-error @+1 {{'ios.pad' op expects a finite padding value}}
  %0 = ios.pad %x {pads = array<i64: 1, 1, 0, 0>, value = 0x7F800000 : f32} : tensor<1x4x8x8xf32> -> tensor<1x4x9x9xf32>
  return %0 : tensor<1x4x9x9xf32>
}

// -----

func.func @broadcast_spatial(%x: tensor<1x4x8x8xf32>, %s: tensor<1x4x8x1xf32>) -> tensor<1x4x8x8xf32> {
  // Only (N, C, 1, 1) operands broadcast.
  // expected-error @+1 {{'ios.mul' op operand #1 has type 'tensor<1x4x8x1xf32>', expected 'tensor<1x4x8x8xf32>' or its (N, C, 1, 1) broadcast}}
  %0 = ios.mul %x, %s : tensor<1x4x8x8xf32>, tensor<1x4x8x1xf32>
  return %0 : tensor<1x4x8x8xf32>
}

// -----

func.func @operand_type_count(%x: tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32> {
  // expected-error @+1 {{expected one type or 3 types, got 2}}
  %0 = ios.add %x, %x, %x : tensor<1x4x8x8xf32>, tensor<1x4x8x8xf32>
  return %0 : tensor<1x4x8x8xf32>
}

// -----

func.func @affine_channels(%x: tensor<1x4x8x8xf32>, %s: tensor<8xf32>) -> tensor<1x4x8x8xf32> {
  // expected-error @+1 {{'ios.affine' op scale has 8 elements, expected 4 (one per channel)}}
  %0 = ios.affine %x, %s, %s : tensor<1x4x8x8xf32>, tensor<8xf32>, tensor<8xf32>
  return %0 : tensor<1x4x8x8xf32>
}

// -----

func.func @upsample_scale(%x: tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32> {
  // expected-error @+1 {{'ios.upsample' op expects positive 'scale', got [0, 1]}}
  %0 = ios.upsample nearest %x {scale = array<i64: 0, 1>} : tensor<1x4x8x8xf32> -> tensor<1x4x8x8xf32>
  return %0 : tensor<1x4x8x8xf32>
}

// -----

func.func @shuffle_groups(%x: tensor<1x6x8x8xf32>) -> tensor<1x6x8x8xf32> {
  // expected-error @+1 {{'ios.channel_shuffle' op groups (4) must be positive and divide the 6 channels}}
  %0 = ios.channel_shuffle %x {groups = 4} : tensor<1x6x8x8xf32>
  return %0 : tensor<1x6x8x8xf32>
}
