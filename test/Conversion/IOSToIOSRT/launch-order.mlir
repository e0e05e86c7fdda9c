// RUN: ios-opt %s --convert-ios-to-iosrt | FileCheck %s
// RUN: ios-opt %s --convert-ios-to-iosrt=launch-order=round-robin | FileCheck %s
// RUN: ios-opt %s --convert-ios-to-iosrt=launch-order=grouped | FileCheck %s --check-prefix=GROUPED
// RUN: not ios-opt %s --convert-ios-to-iosrt=launch-order=fastest 2>&1 | FileCheck %s --check-prefix=BAD

// A stage's groups are enqueued round-robin: the first op of every group,
// then the second, ... so every stream's first kernel is enqueued after at
// most (groups - 1) others, not after all ops of the groups before it.
// launch-order=grouped enqueues group by group (runtime API v1's order,
// kept to measure the difference: python3 -m ios.bench.launch); the streams,
// events and kernels are the same.

// BAD: 'fastest' is not one of: round-robin, grouped

!t = tensor<1x4x8x8xf32>

// CHECK-LABEL: func.func @three_groups()
// CHECK:       iosrt.record event 0 on stream 0
// CHECK-NEXT:  iosrt.wait stream 1 for event 0
// CHECK-NEXT:  iosrt.wait stream 2 for event 0
// CHECK:       iosrt.activation "a1" on stream 0
// CHECK:       iosrt.activation "b1" on stream 1
// CHECK:       iosrt.activation "c1" on stream 2
// CHECK:       iosrt.activation "a2" on stream 0
// CHECK:       iosrt.activation "c2" on stream 2
// CHECK:       iosrt.activation "a3" on stream 0
// CHECK-NEXT:  iosrt.record event 1 on stream 1
// CHECK-NEXT:  iosrt.wait stream 0 for event 1
// CHECK-NEXT:  iosrt.record event 2 on stream 2
// CHECK-NEXT:  iosrt.wait stream 0 for event 2
// GROUPED-LABEL: func.func @three_groups()
// GROUPED:       iosrt.record event 0 on stream 0
// GROUPED-NEXT:  iosrt.wait stream 1 for event 0
// GROUPED-NEXT:  iosrt.wait stream 2 for event 0
// GROUPED:       iosrt.activation "a1" on stream 0
// GROUPED:       iosrt.activation "a2" on stream 0
// GROUPED:       iosrt.activation "a3" on stream 0
// GROUPED:       iosrt.activation "b1" on stream 1
// GROUPED:       iosrt.activation "c1" on stream 2
// GROUPED:       iosrt.activation "c2" on stream 2
// GROUPED-NEXT:  iosrt.record event 1 on stream 1
// GROUPED-NEXT:  iosrt.wait stream 0 for event 1
// GROUPED-NEXT:  iosrt.record event 2 on stream 2
// GROUPED-NEXT:  iosrt.wait stream 0 for event 2
func.func @three_groups(%x: !t {ios.input}) -> (!t, !t, !t) {
  %s:3 = ios.stage concurrent {
    %g0 = ios.group {
      %a1 = ios.activation relu %x : !t loc("a1")
      %a2 = ios.activation tanh %a1 : !t loc("a2")
      %a3 = ios.activation sigmoid %a2 : !t loc("a3")
      ios.yield %a3 : !t
    } -> !t
    %g1 = ios.group {
      %b1 = ios.activation relu %x : !t loc("b1")
      ios.yield %b1 : !t
    } -> !t
    %g2 = ios.group {
      %c1 = ios.activation tanh %x : !t loc("c1")
      %c2 = ios.activation relu %c1 : !t loc("c2")
      ios.yield %c2 : !t
    } -> !t
    ios.yield %g0, %g1, %g2 : !t, !t, !t
  } -> !t, !t, !t
  return %s#0, %s#1, %s#2 : !t, !t, !t
}
