// RUN: ios-opt %s | FileCheck %s
// RUN: ios-opt %s | ios-opt | FileCheck %s
// RUN: ios-opt %s --mlir-print-op-generic | ios-opt | FileCheck %s

// The README network of IOS (examples/sample.py; `python3 -m ios.zoo sample`):
// conv1, conv2 (750 channels) and conv3 read the 375x15x15 input, conv4 reads
// conv1, and a concat joins conv4, conv2, conv3. Scheduled as IOS's README
// shows: [conv1 | conv2], [conv4 | conv3], [concat].

!act = tensor<1x375x15x15xf32>
!act2 = tensor<1x750x15x15xf32>
!w = tensor<375x375x3x3xf32>
!b = tensor<375xf32>
!w2 = tensor<750x375x3x3xf32>
!b2 = tensor<750xf32>

// CHECK-LABEL: func.func @sample
// CHECK:         %[[S0:.*]]:2 = ios.stage concurrent latency_ms = 1.610000e-01 {
// CHECK-NEXT:      %[[G0:.*]] = ios.group {
// CHECK-NEXT:        %[[C1:.*]] = ios.conv2d %arg0, %arg1, %arg2
// CHECK-NEXT:        ios.yield %[[C1]] : tensor<1x375x15x15xf32>
// CHECK-NEXT:      } -> tensor<1x375x15x15xf32>
// CHECK-NEXT:      %[[G1:.*]] = ios.group {
// CHECK-NEXT:        ios.conv2d %arg0, %arg3, %arg4 {{.*}} -> tensor<1x750x15x15xf32>
// CHECK:           ios.yield %[[G0]], %[[G1]]
// CHECK:         %[[S1:.*]]:2 = ios.stage concurrent latency_ms = 1.540000e-01 {
// CHECK:           ios.conv2d %[[S0]]#0
// CHECK:           ios.conv2d %arg0
// CHECK:         %[[S2:.*]] = ios.stage concurrent latency_ms = 1.700000e-02 {
// CHECK:           ios.concat %[[S1]]#0, %[[S0]]#1, %[[S1]]#1
// CHECK:         return %[[S2]]
func.func @sample(%x: !act {ios.input},
                  %w1: !w {ios.param = "conv1.weight"}, %b1: !b {ios.param = "conv1.bias"},
                  %w2: !w2 {ios.param = "conv2.weight"}, %b2: !b2 {ios.param = "conv2.bias"},
                  %w3: !w {ios.param = "conv3.weight"}, %b3: !b {ios.param = "conv3.bias"},
                  %w4: !w2 {ios.param = "conv4.weight"}, %b4: !b2 {ios.param = "conv4.bias"})
    -> tensor<1x1875x15x15xf32> {
  %s0:2 = ios.stage concurrent latency_ms = 0.161 {
    %g0 = ios.group {
      %c1 = ios.conv2d %x, %w1, %b1 {padding = array<i64: 1, 1>, act = #ios.act<relu>} : (!act, !w, !b) -> !act
      ios.yield %c1 : !act
    } -> !act
    %g1 = ios.group {
      %c2 = ios.conv2d %x, %w2, %b2 {padding = array<i64: 1, 1>, act = #ios.act<relu>} : (!act, !w2, !b2) -> !act2
      ios.yield %c2 : !act2
    } -> !act2
    ios.yield %g0, %g1 : !act, !act2
  } -> !act, !act2
  %s1:2 = ios.stage concurrent latency_ms = 0.154 {
    %g0 = ios.group {
      %c4 = ios.conv2d %s0#0, %w4, %b4 {padding = array<i64: 1, 1>, act = #ios.act<relu>} : (!act, !w2, !b2) -> !act2
      ios.yield %c4 : !act2
    } -> !act2
    %g1 = ios.group {
      %c3 = ios.conv2d %x, %w3, %b3 {padding = array<i64: 1, 1>, act = #ios.act<relu>} : (!act, !w, !b) -> !act
      ios.yield %c3 : !act
    } -> !act
    ios.yield %g0, %g1 : !act2, !act
  } -> !act2, !act
  %s2 = ios.stage concurrent latency_ms = 0.017 {
    %g = ios.group {
      %cat = ios.concat %s1#0, %s0#1, %s1#1 : (!act2, !act2, !act) -> tensor<1x1875x15x15xf32>
      ios.yield %cat : tensor<1x1875x15x15xf32>
    } -> tensor<1x1875x15x15xf32>
    ios.yield %g : tensor<1x1875x15x15xf32>
  } -> tensor<1x1875x15x15xf32>
  return %s2 : tensor<1x1875x15x15xf32>
}
