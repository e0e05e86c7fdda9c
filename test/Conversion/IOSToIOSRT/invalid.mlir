// RUN: ios-opt %s -split-input-file --convert-ios-to-iosrt -verify-diagnostics
// RUN: not ios-translate --ios-to-cpp %s -split-input-file 2>&1 | FileCheck %s --check-prefix=TRANSLATE
// RUN: not ios-opt %s -split-input-file --convert-ios-to-iosrt="device=a100" 2>&1 | FileCheck %s --check-prefix=DEVICE

// TRANSLATE: error: function @plain is not scheduled; run --ios-schedule first
// DEVICE: error: function @foreign was scheduled for device 'v100', not 'a100'; schedule it again for this device

!t = tensor<1x4x8x8xf32>

// expected-error @+1 {{function @plain is not scheduled; run --ios-schedule first (strategy=sequential gives the plain program)}}
func.func @plain(%x: !t {ios.input}) -> !t {
  %r = ios.activation relu %x : !t
  return %r : !t
}

// -----

!t = tensor<1x4x8x8xf32>

func.func @foreign(%x: !t {ios.input}) -> !t attributes {ios.schedule = #ios.schedule<device = "v100", batch = 1, profiler = "analytic:v100", strategy = both, enumeration = ios, max_group_size = 3, max_groups = 8, latency_ms = 1.0 : f64, sequential_ms = 1.0 : f64>} {
  %s = ios.stage concurrent {
    %g = ios.group {
      // expected-error @+1 {{'arith.addf' cannot be lowered to the IOS runtime: a group holds graph ops (ios) only}}
      %r = arith.addf %x, %x : !t
      ios.yield %r : !t
    } -> !t
    ios.yield %g : !t
  } -> !t
  return %s : !t
}

// -----

// A function input the runtimes cannot index (4 x 2^62 elements): an error,
// not an overflowing buffer size.
!t = tensor<1x4x2147483648x2147483648xf32>

// expected-error @+1 {{'func.func' op input 0 of type 'tensor<1x4x2147483648x2147483648xf32>' has more than 2147483647 elements, more than the runtimes index}}
func.func @huge_input(%x: !t {ios.input}) -> !t attributes {ios.schedule = #ios.schedule<device = "v100", batch = 1, profiler = "analytic:v100", strategy = both, enumeration = ios, max_group_size = 3, max_groups = 8, latency_ms = 1.0 : f64, sequential_ms = 1.0 : f64>} {
  %s = ios.stage concurrent {
    %g = ios.group {
      %r = arith.addf %x, %x : !t
      ios.yield %r : !t
    } -> !t
    ios.yield %g : !t
  } -> !t
  return %s : !t
}

// -----

// A foreign op's result reaches the memory plan unchecked by any verifier.
!t = tensor<1x4x8x8xf32>
!big = tensor<1x4x65536x65536xf32>

func.func @huge_result(%x: !t {ios.input}) -> !big attributes {ios.schedule = #ios.schedule<device = "v100", batch = 1, profiler = "analytic:v100", strategy = both, enumeration = ios, max_group_size = 3, max_groups = 8, latency_ms = 1.0 : f64, sequential_ms = 1.0 : f64>} {
  %s = ios.stage concurrent {
    %g = ios.group {
      // expected-error @+1 {{'arith.constant' op result type 'tensor<1x4x65536x65536xf32>' has more than 2147483647 elements, more than the runtimes index}}
      %r = arith.constant dense<0.0> : !big
      ios.yield %r : !big
    } -> !big
    ios.yield %g : !big
  } -> !big
  return %s : !big
}

// -----

!t = tensor<1x4x8x8xf32>

func.func @rank1_result(%x: !t {ios.input}) -> tensor<4xf32> attributes {ios.schedule = #ios.schedule<device = "v100", batch = 1, profiler = "analytic:v100", strategy = both, enumeration = ios, max_group_size = 3, max_groups = 8, latency_ms = 1.0 : f64, sequential_ms = 1.0 : f64>} {
  %s = ios.stage concurrent {
    %g = ios.group {
      // expected-error @+1 {{'arith.constant' op result type 'tensor<4xf32>' cannot be placed in the arena (expected a static rank-4 or rank-2 f32 tensor)}}
      %r = arith.constant dense<0.0> : tensor<4xf32>
      ios.yield %r : tensor<4xf32>
    } -> tensor<4xf32>
    ios.yield %g : tensor<4xf32>
  } -> tensor<4xf32>
  return %s : tensor<4xf32>
}

// -----

!t = tensor<1x4x8x8xf32>

func.func @constant_activation(%x: !t {ios.input}) -> !t attributes {ios.schedule = #ios.schedule<device = "v100", batch = 1, profiler = "analytic:v100", strategy = both, enumeration = ios, max_group_size = 3, max_groups = 8, latency_ms = 1.0 : f64, sequential_ms = 1.0 : f64>} {
  %c = arith.constant dense<1.0> : !t
  %s = ios.stage concurrent {
    %g = ios.group {
      // expected-error @+1 {{'ios.add' reads a constant as an activation (operand #1); only network inputs and op results are placed in the arena}}
      %r = ios.add %x, %c : !t
      ios.yield %r : !t
    } -> !t
    ios.yield %g : !t
  } -> !t
  return %s : !t
}

// -----

!t = tensor<1x4x8x8xf32>

func.func @param_activation(%x: !t {ios.input}, %p: !t {ios.param = "p"}) -> !t attributes {ios.schedule = #ios.schedule<device = "v100", batch = 1, profiler = "analytic:v100", strategy = both, enumeration = ios, max_group_size = 3, max_groups = 8, latency_ms = 1.0 : f64, sequential_ms = 1.0 : f64>} {
  %s = ios.stage concurrent {
    %g = ios.group {
      // expected-error @+1 {{'ios.activation' reads a weight as an activation (operand #0); only network inputs and op results are placed in the arena}}
      %r = ios.activation relu %p : !t
      ios.yield %r : !t
    } -> !t
    ios.yield %g : !t
  } -> !t
  return %s : !t
}

// -----

!t = tensor<1x4x8x8xf32>

func.func @outside(%x: !t {ios.input}) -> !t attributes {ios.schedule = #ios.schedule<device = "v100", batch = 1, profiler = "analytic:v100", strategy = both, enumeration = ios, max_group_size = 3, max_groups = 8, latency_ms = 1.0 : f64, sequential_ms = 1.0 : f64>} {
  %s = ios.stage concurrent {
    %g = ios.group {
      %r = ios.activation relu %x : !t
      ios.yield %r : !t
    } -> !t
    ios.yield %g : !t
  } -> !t
  // expected-error @+1 {{'ios.activation' cannot be lowered: a scheduled function holds ios.stage ops and the packing of merged weights only}}
  %t = ios.activation relu %s : !t
  return %t : !t
}
