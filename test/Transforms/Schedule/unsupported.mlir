// RUN: ios-opt %s -split-input-file --ios-schedule -verify-diagnostics | FileCheck %s

// An op that does not implement the schedulable-op interface is a single-op
// unit costed by the profiler; the analytic model has no cost model for it
// (one memory-bound kernel) and says so at the op.
// CHECK-LABEL: func.func @foreign
// CHECK:         ios.stage concurrent latency_ms = {{[0-9.e+-]+}} {
// CHECK:             ios.activation relu
// CHECK:         ios.stage concurrent latency_ms = {{[0-9.e+-]+}} {
// CHECK:             arith.addf
func.func @foreign(%x: tensor<1x4x8x8xf32> {ios.input}) -> tensor<1x4x8x8xf32> {
  %r = ios.activation relu %x : tensor<1x4x8x8xf32>
  // expected-warning @+1 {{'arith.addf' has no cost model (it does not implement the schedulable-op interface): the analytic:v100 profiler costs it as one memory-bound pass over its operands}}
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

// -----

// With `strict`, an op without a cost model is an error and nothing changes.
// RUN: not ios-opt %s -split-input-file --ios-schedule="strict" 2>&1 | FileCheck %s --check-prefix=STRICT
// STRICT: error: 'arith.addf' has no cost model
// STRICT-NOT: latency_ms
