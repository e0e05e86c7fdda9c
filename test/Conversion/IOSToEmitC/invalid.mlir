// RUN: ios-opt %s -split-input-file --convert-ios-to-emitc -verify-diagnostics
// RUN: not ios-translate --ios-to-cpp %s -split-input-file 2>&1 | FileCheck %s --check-prefix=TRANSLATE
// RUN: not ios-opt %s -split-input-file --convert-ios-to-emitc="device=a100" 2>&1 | FileCheck %s --check-prefix=DEVICE

// TRANSLATE: error: 'func.func' op is not scheduled; run --ios-schedule first
// DEVICE: error: 'func.func' op was scheduled for device 'v100', not 'a100'; schedule it again for this device

!t = tensor<1x4x8x8xf32>

// expected-error @+1 {{'func.func' op is not scheduled; run --ios-schedule first (strategy=sequential gives the plain program)}}
func.func @plain(%x: !t {ios.input}) -> !t {
  %r = ios.activation relu %x : !t
  return %r : !t
}

// -----

!t = tensor<1x4x8x8xf32>

// expected-error @+1 {{'func.func' op has 2 input(s) and 1 result(s); the runtime's C API runs networks of one input and one result}}
func.func @two_inputs(%x: !t {ios.input}, %y: !t {ios.input}) -> !t attributes {ios.schedule = #ios.schedule<device = "v100", batch = 1, profiler = "analytic:v100", strategy = both, enumeration = ios, max_group_size = 3, max_groups = 8, latency_ms = 1.0 : f64, sequential_ms = 1.0 : f64>} {
  %s = ios.stage concurrent {
    %g = ios.group {
      %r = ios.add %x, %y : !t
      ios.yield %r : !t
    } -> !t
    ios.yield %g : !t
  } -> !t
  return %s : !t
}

// -----

!t = tensor<1x4x8x8xf32>

func.func @foreign(%x: !t {ios.input}) -> !t attributes {ios.schedule = #ios.schedule<device = "v100", batch = 1, profiler = "analytic:v100", strategy = both, enumeration = ios, max_group_size = 3, max_groups = 8, latency_ms = 1.0 : f64, sequential_ms = 1.0 : f64>} {
  %s = ios.stage concurrent {
    %g = ios.group {
      // expected-error @+1 {{'arith.addf' op cannot be lowered to the IOS runtime (no kernel for it)}}
      %r = arith.addf %x, %x : !t
      ios.yield %r : !t
    } -> !t
    ios.yield %g : !t
  } -> !t
  return %s : !t
}

// -----

!t = tensor<1x4x8x8xf32>

func.func @constant_weight(%x: !t {ios.input}) -> !t attributes {ios.schedule = #ios.schedule<device = "v100", batch = 1, profiler = "analytic:v100", strategy = both, enumeration = ios, max_group_size = 3, max_groups = 8, latency_ms = 1.0 : f64, sequential_ms = 1.0 : f64>} {
  %w = arith.constant dense<1.0> : tensor<4x4x1x1xf32>
  %b = arith.constant dense<0.0> : tensor<4xf32>
  %s = ios.stage concurrent {
    %g = ios.group {
      // expected-error @+1 {{'ios.conv2d' op reads a weight computed by 'arith.constant'; the lowering supports ios.param arguments and the packed weights of merge stages only}}
      %r = ios.conv2d %x, %w, %b : (!t, tensor<4x4x1x1xf32>, tensor<4xf32>) -> !t
      ios.yield %r : !t
    } -> !t
    ios.yield %g : !t
  } -> !t
  return %s : !t
}

// -----

!t = tensor<1x8x8x8xf32>

// expected-error @+1 {{'func.func' op returns a channel slice of a wider tensor; return a whole tensor (e.g. a concat or a conv result)}}
func.func @slice_result(%x: !t {ios.input}) -> tensor<1x4x8x8xf32> attributes {ios.schedule = #ios.schedule<device = "v100", batch = 1, profiler = "analytic:v100", strategy = both, enumeration = ios, max_group_size = 3, max_groups = 8, latency_ms = 1.0 : f64, sequential_ms = 1.0 : f64>} {
  %s = ios.stage concurrent {
    %g = ios.group {
      %r = ios.activation relu %x : !t
      %c = ios.slice %r[0:4] : !t -> tensor<1x4x8x8xf32>
      ios.yield %c : tensor<1x4x8x8xf32>
    } -> tensor<1x4x8x8xf32>
    ios.yield %g : tensor<1x4x8x8xf32>
  } -> tensor<1x4x8x8xf32>
  return %s : tensor<1x4x8x8xf32>
}
