// RUN: ios-translate --ios-to-timeline -split-input-file --verify-diagnostics %s
// RUN: not ios-translate --ios-to-timeline %S/../Dot/empty.mlir 2>&1 | FileCheck %s --check-prefix=EMPTY
// EMPTY: error: --ios-to-timeline found no function

// expected-error @below {{function @graph is not scheduled; run ios-opt --ios-schedule first}}
func.func @graph(%x: tensor<1x8x4x4xf32> {ios.input}) -> tensor<1x8x4x4xf32> {
  %0 = ios.activation relu %x : tensor<1x8x4x4xf32>
  return %0 : tensor<1x8x4x4xf32>
}

// -----

!t = tensor<1x8x4x4xf32>
func.func @partly(%x: !t {ios.input}) -> !t {
  %s = ios.stage concurrent {
    %g = ios.group {
      %0 = ios.activation relu %x : !t
      ios.yield %0 : !t
    } -> !t
    ios.yield %g : !t
  } -> !t
  // expected-error @below {{'ios.activation' op is outside every ios.stage: the timeline needs a fully scheduled function}}
  %1 = ios.activation relu %s : !t
  return %1 : !t
}

// -----

!t = tensor<1x8x4x4xf32>
// expected-error @below {{function @no_device has no ios.schedule attribute naming its device; pass --timeline-device}}
func.func @no_device(%x: !t {ios.input}) -> !t {
  %s = ios.stage concurrent {
    %g = ios.group {
      %0 = ios.activation relu %x : !t
      ios.yield %0 : !t
    } -> !t
    ios.yield %g : !t
  } -> !t
  return %s : !t
}

// -----

!t = tensor<1x8x4x4xf32>
// expected-error @below {{function @cpu: unknown device 'cpu': not one of v100, a100, h100 and not a readable JSON device file (No such file or directory); --timeline-device picks the model's device}}
func.func @cpu(%x: !t {ios.input}) -> !t attributes {ios.schedule = #ios.schedule<
      device = "cpu", batch = 1, profiler = "cpu", strategy = both,
      enumeration = ios, max_group_size = 3, max_groups = 8,
      latency_ms = 0.1 : f64, sequential_ms = 0.1 : f64>} {
  %s = ios.stage concurrent {
    %g = ios.group {
      %0 = ios.activation relu %x : !t
      ios.yield %0 : !t
    } -> !t
    ios.yield %g : !t
  } -> !t
  return %s : !t
}
