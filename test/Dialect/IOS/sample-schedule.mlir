// RUN: ios-opt %s | FileCheck %s
// RUN: ios-opt %s | ios-opt | FileCheck %s
// RUN: ios-opt %s --mlir-print-op-generic | ios-opt | FileCheck %s

// The README network of IOS (375 channels, 15x15): conv1 and conv2 read the
// input, conv3 and conv4 read conv1, and a concat joins conv2, conv3, conv4.
// Scheduled as IOS does: [conv1 | conv2], [conv3 | conv4], [concat].

!act = tensor<1x375x15x15xf32>
!w = tensor<375x375x3x3xf32>
!b = tensor<375xf32>

// CHECK-LABEL: func.func @sample
// CHECK:         %[[S0:.*]]:2 = ios.stage concurrent latency_ms = 1.610000e-01 {
// CHECK-NEXT:      %[[G0:.*]] = ios.group {
// CHECK-NEXT:        %[[C1:.*]] = ios.conv2d %arg0, %arg1, %arg2
// CHECK-NEXT:        ios.yield %[[C1]] : tensor<1x375x15x15xf32>
// CHECK-NEXT:      } -> tensor<1x375x15x15xf32>
// CHECK-NEXT:      %[[G1:.*]] = ios.group {
// CHECK:           ios.yield %[[G0]], %[[G1]]
// CHECK:         %[[S1:.*]]:2 = ios.stage concurrent latency_ms = 1.540000e-01 {
// CHECK:           ios.conv2d %[[S0]]#0
// CHECK:           ios.conv2d %[[S0]]#0
// CHECK:         %[[S2:.*]] = ios.stage concurrent {
// CHECK:           ios.concat %[[S0]]#1, %[[S1]]#0, %[[S1]]#1
// CHECK:         return %[[S2]]
func.func @sample(%x: !act {ios.input},
                  %w1: !w {ios.param = "conv1.weight"}, %b1: !b {ios.param = "conv1.bias"},
                  %w2: !w {ios.param = "conv2.weight"}, %b2: !b {ios.param = "conv2.bias"},
                  %w3: !w {ios.param = "conv3.weight"}, %b3: !b {ios.param = "conv3.bias"},
                  %w4: !w {ios.param = "conv4.weight"}, %b4: !b {ios.param = "conv4.bias"})
    -> tensor<1x1125x15x15xf32> {
  %s0:2 = ios.stage concurrent latency_ms = 0.161 {
    %g0 = ios.group {
      %c1 = ios.conv2d %x, %w1, %b1 {padding = array<i64: 1, 1>, act = #ios.act<relu>} : (!act, !w, !b) -> !act
      ios.yield %c1 : !act
    } -> !act
    %g1 = ios.group {
      %c2 = ios.conv2d %x, %w2, %b2 {padding = array<i64: 1, 1>, act = #ios.act<relu>} : (!act, !w, !b) -> !act
      ios.yield %c2 : !act
    } -> !act
    ios.yield %g0, %g1 : !act, !act
  } -> !act, !act
  %s1:2 = ios.stage concurrent latency_ms = 0.154 {
    %g0 = ios.group {
      %c3 = ios.conv2d %s0#0, %w3, %b3 {padding = array<i64: 1, 1>, act = #ios.act<relu>} : (!act, !w, !b) -> !act
      ios.yield %c3 : !act
    } -> !act
    %g1 = ios.group {
      %c4 = ios.conv2d %s0#0, %w4, %b4 {padding = array<i64: 1, 1>, act = #ios.act<relu>} : (!act, !w, !b) -> !act
      ios.yield %c4 : !act
    } -> !act
    ios.yield %g0, %g1 : !act, !act
  } -> !act, !act
  %s2 = ios.stage concurrent {
    %g = ios.group {
      %cat = ios.concat %s0#1, %s1#0, %s1#1 : (!act, !act, !act) -> tensor<1x1125x15x15xf32>
      ios.yield %cat : tensor<1x1125x15x15xf32>
    } -> tensor<1x1125x15x15xf32>
    ios.yield %g : tensor<1x1125x15x15xf32>
  } -> tensor<1x1125x15x15xf32>
  return %s2 : tensor<1x1125x15x15xf32>
}
