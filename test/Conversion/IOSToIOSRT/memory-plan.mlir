// RUN: ios-opt %s --convert-ios-to-iosrt --cse | FileCheck %s

// Memory plan: a and b are written by their producers straight into the
// channels of their concat (no copy); the slice is a view of the concat;
// d reuses the arena space of the input, dead after stage 0.

!t = tensor<1x4x8x8xf32>

// The concat's 8 channels are placed first (largest), the input after them.
// CHECK-LABEL: func.func @inplace()
// CHECK-SAME:    iosrt.arena = 768 : i64
// CHECK:       %[[X:.*]] = iosrt.view offset 512 shape [1, 4, 8, 8] batch_stride 256
// CHECK-NEXT:  iosrt.input 0 to %[[X]]
// Channel slices of the concat: the concat's batch stride.
// CHECK:       %[[CA:.*]] = iosrt.view offset 0 shape [1, 4, 8, 8] batch_stride 512
// CHECK-NEXT:  iosrt.activation "a" on stream 0 : %[[X]] -> %[[CA]]
// CHECK-NEXT:  %[[CB:.*]] = iosrt.view offset 256 shape [1, 4, 8, 8] batch_stride 512
// CHECK-NEXT:  iosrt.activation "b" on stream 1 : %[[X]] -> %[[CB]]
// The slice [2:6] of the concat is read in place; d's result reuses the
// input's space.
// CHECK:       iosrt.stage 1
// CHECK-NEXT:  %[[S:.*]] = iosrt.view offset 128 shape [1, 4, 8, 8] batch_stride 512
// CHECK-NEXT:  iosrt.stage 2
// CHECK-NEXT:  iosrt.activation "d" on stream 0 : %[[S]] -> %[[X]]
// CHECK-NOT:   iosrt.copy
// CHECK:       iosrt.output 0 from %[[X]]
func.func @inplace(%x: !t {ios.input}) -> !t {
  %s0:2 = ios.stage concurrent {
    %g0 = ios.group {
      %a = ios.activation relu %x : !t loc("a")
      ios.yield %a : !t
    } -> !t
    %g1 = ios.group {
      %b = ios.activation tanh %x : !t loc("b")
      ios.yield %b : !t
    } -> !t
    ios.yield %g0, %g1 : !t, !t
  } -> !t, !t
  %s1 = ios.stage concurrent {
    %g = ios.group {
      %c = ios.concat %s0#0, %s0#1 : (!t, !t) -> tensor<1x8x8x8xf32> loc("c")
      %s = ios.slice %c[2:6] : tensor<1x8x8x8xf32> -> !t loc("s")
      ios.yield %s : !t
    } -> !t
    ios.yield %g : !t
  } -> !t
  %s2 = ios.stage concurrent {
    %g = ios.group {
      %d = ios.activation sigmoid %s1 : !t loc("d")
      ios.yield %d : !t
    } -> !t
    ios.yield %g : !t
  } -> !t
  return %s2 : !t
}
