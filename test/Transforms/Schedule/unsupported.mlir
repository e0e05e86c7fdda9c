// RUN: ios-opt %s -split-input-file --ios-schedule -verify-diagnostics | FileCheck %s

// An op the dialect does not know is a single-op unit costed by the profiler
// (the analytic model treats it as one memory-bound kernel).
// CHECK-LABEL: func.func @foreign
// CHECK:         ios.stage concurrent latency_ms = {{[0-9.e+-]+}} {
// CHECK:             ios.activation relu
// CHECK:         ios.stage concurrent latency_ms = {{[0-9.e+-]+}} {
// CHECK:             arith.addf
func.func @foreign(%x: tensor<1x4x8x8xf32> {ios.input}) -> tensor<1x4x8x8xf32> {
  %r = ios.activation relu %x : tensor<1x4x8x8xf32>
  %s = arith.addf %r, %x : tensor<1x4x8x8xf32>
  return %s : tensor<1x4x8x8xf32>
}

// -----

func.func @already(%x: tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32> {
  // expected-error @+1 {{'ios.stage' op function @already is already scheduled; ios-schedule takes graph-level IR}}
  %s = ios.stage concurrent {
    %g = ios.group {
      %r = ios.activation relu %x : tensor<1x4x8x8xf32>
      ios.yield %r : tensor<1x4x8x8xf32>
    } -> tensor<1x4x8x8xf32>
    ios.yield %g : tensor<1x4x8x8xf32>
  } -> tensor<1x4x8x8xf32>
  return %s : tensor<1x4x8x8xf32>
}

// -----

func.func @region(%x: tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32> {
  // expected-error @+1 {{'tensor.generate' op cannot be scheduled: ops with regions are not supported by ios-schedule}}
  %g = tensor.generate {
  ^bb0(%n: index, %c: index, %h: index, %w: index):
    %z = arith.constant 0.0 : f32
    tensor.yield %z : f32
  } : tensor<1x4x8x8xf32>
  %s = ios.add %x, %g : tensor<1x4x8x8xf32>
  return %s : tensor<1x4x8x8xf32>
}
