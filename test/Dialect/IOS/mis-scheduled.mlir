// RUN: not ios-opt %s 2>&1 | FileCheck %s
// RUN: not ios-translate --ios-to-dot %s 2>&1 | FileCheck %s
// RUN: not ios-translate --ios-to-cpp %s 2>&1 | FileCheck %s
// RUN: not ios-translate --ios-to-cuda %s 2>&1 | FileCheck %s

// The sample network scheduled wrongly: conv4 (which reads conv1) was put in
// conv1's stage. All tools refuse it with an error located at conv4, and
// exit non-zero before producing anything.

!act = tensor<1x375x15x15xf32>
!w = tensor<375x375x3x3xf32>
!b = tensor<375xf32>

// CHECK: mis-scheduled.mlir:[[# @LINE + 13]]:13: error: 'ios.conv2d' op in group #1 of a stage uses a value of group #0 of the same stage
// CHECK: mis-scheduled.mlir:[[# @LINE + 7]]:11: note: value produced here
// CHECK-NOT: digraph
// CHECK-NOT: #include
func.func @sample(%x: !act {ios.input},
                  %w1: !w {ios.param = "conv1.weight"}, %b1: !b {ios.param = "conv1.bias"},
                  %w4: !w {ios.param = "conv4.weight"}, %b4: !b {ios.param = "conv4.bias"}) -> !act {
  %s0:2 = ios.stage concurrent {
    %g0 = ios.group {
      %c1 = ios.conv2d %x, %w1, %b1 {padding = array<i64: 1, 1>, act = #ios.act<relu>} : (!act, !w, !b) -> !act
      ios.yield %c1 : !act
    } -> !act
    %g1 = ios.group {
      %c4 = ios.conv2d %g0, %w4, %b4 {padding = array<i64: 1, 1>, act = #ios.act<relu>} : (!act, !w, !b) -> !act
      ios.yield %c4 : !act
    } -> !act
    ios.yield %g0, %g1 : !act, !act
  } -> !act, !act
  return %s0#1 : !act
}
