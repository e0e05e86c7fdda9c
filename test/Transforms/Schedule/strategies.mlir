// RUN: ios-opt %s --ios-schedule="profiler=table:%S/Inputs/sample-table.json" | FileCheck %s --check-prefix=BOTH
// RUN: ios-opt %s --ios-schedule="strategy=concurrent profiler=table:%S/Inputs/sample-table.json" | FileCheck %s --check-prefix=BOTH
// RUN: ios-opt %s --ios-schedule="strategy=merge profiler=table:%S/Inputs/sample-table.json" | FileCheck %s --check-prefix=MERGE
// RUN: ios-opt %s --ios-schedule="strategy=sequential profiler=table:%S/Inputs/sample-table.json" | FileCheck %s --check-prefix=SEQ
// RUN: ios-opt %s --ios-schedule="strategy=greedy profiler=table:%S/Inputs/sample-table.json" | FileCheck %s --check-prefix=BOTH
// The scheduled IR verifies and round-trips.
// RUN: ios-opt %s --ios-schedule="profiler=table:%S/Inputs/sample-table.json" | ios-opt | FileCheck %s --check-prefix=BOTH
// RUN: ios-opt %s --ios-schedule="strategy=merge profiler=table:%S/Inputs/sample-table.json" --mlir-print-op-generic | ios-opt | FileCheck %s --check-prefix=MERGE

// The IOS README network with the README's measured stage latencies in a
// cost table: IOS's schedule [conv1 | conv2], [conv3 | conv4], [concat] costs
// 0.161 + 0.154 + 0.018 = 0.333 ms, sequential 0.486 ms.

!act = tensor<1x375x15x15xf32>
!w = tensor<375x375x3x3xf32>
!b = tensor<375xf32>

// BOTH-LABEL: func.func @sample
// BOTH-SAME:    ios.schedule = #ios.schedule<device = "v100", batch = 1, profiler = "table:{{.*}}sample-table.json", strategy = "{{both|concurrent|greedy}}", enumeration = "ios", max_group_size = 3, max_groups = 8, latency_ms = 3.330000e-01 : f64, sequential_ms = 4.860000e-01 : f64>
// BOTH:         %[[S0:.*]]:2 = ios.stage concurrent latency_ms = 1.610000e-01 {
// BOTH:           ios.group {
// BOTH-NEXT:        ios.conv2d %arg0, %arg1, %arg2
// BOTH:           ios.group {
// BOTH-NEXT:        ios.conv2d %arg0, %arg3, %arg4
// BOTH:         %[[S1:.*]]:2 = ios.stage concurrent latency_ms = 1.540000e-01 {
// BOTH:           ios.group {
// BOTH-NEXT:        ios.conv2d %[[S0]]#0, %arg5, %arg6
// BOTH:           ios.group {
// BOTH-NEXT:        ios.conv2d %[[S0]]#0, %arg7, %arg8
// BOTH:         %[[S2:.*]] = ios.stage concurrent latency_ms = 1.800000e-02 {
// BOTH:             ios.concat %[[S0]]#1, %[[S1]]#0, %[[S1]]#1
// BOTH:         return %[[S2]]
// BOTH-NOT:     ios.unit

// Merge only: conv1+conv2 share the input, conv3+conv4 share conv1's result.
// The weights are zero-padded (not needed here: equal kernels) and
// concatenated before each merge stage.
// MERGE-LABEL: func.func @sample
// MERGE-SAME:    latency_ms = 4.180000e-01 : f64, sequential_ms = 4.860000e-01 : f64>
// MERGE:         %[[W:.*]] = tensor.concat dim(0) %arg1, %arg3 : (tensor<375x375x3x3xf32>, tensor<375x375x3x3xf32>) -> tensor<750x375x3x3xf32>
// MERGE:         %[[B:.*]] = tensor.concat dim(0) %arg2, %arg4 : (tensor<375xf32>, tensor<375xf32>) -> tensor<750xf32>
// MERGE:         %[[S0:.*]]:2 = ios.stage merge latency_ms = 2.000000e-01 {
// MERGE:           %[[G:.*]]:2 = ios.group {
// MERGE-NEXT:        %[[M:.*]] = ios.conv2d %arg0, %[[W]], %[[B]] {act = #ios.act<relu>, padding = array<i64: 1, 1>} : {{.*}} -> tensor<1x750x15x15xf32>
// MERGE-NEXT:        %[[A:.*]] = ios.slice %[[M]][0 : 375]
// MERGE-NEXT:        %[[C:.*]] = ios.slice %[[M]][375 : 750]
// MERGE-NEXT:        ios.yield %[[A]], %[[C]]
// MERGE:         tensor.concat dim(0) %arg5, %arg7
// MERGE:         %[[S1:.*]]:2 = ios.stage merge latency_ms = 2.000000e-01 {
// MERGE:             ios.conv2d %[[S0]]#0
// MERGE:         ios.stage concurrent latency_ms = 1.800000e-02 {
// MERGE:             ios.concat %[[S0]]#1, %[[S1]]#0, %[[S1]]#1

// SEQ-LABEL: func.func @sample
// SEQ-SAME:    latency_ms = 4.860000e-01 : f64, sequential_ms = 4.860000e-01 : f64>
// SEQ-COUNT-5: ios.stage concurrent
// SEQ-NOT:     ios.stage
func.func @sample(%x: !act {ios.input},
                  %w1: !w {ios.param = "conv1.weight"}, %b1: !b {ios.param = "conv1.bias"},
                  %w2: !w {ios.param = "conv2.weight"}, %b2: !b {ios.param = "conv2.bias"},
                  %w3: !w {ios.param = "conv3.weight"}, %b3: !b {ios.param = "conv3.bias"},
                  %w4: !w {ios.param = "conv4.weight"}, %b4: !b {ios.param = "conv4.bias"}) -> tensor<1x1125x15x15xf32> {
  %c1 = ios.conv2d %x, %w1, %b1 {padding = array<i64: 1, 1>, act = #ios.act<relu>} : (!act, !w, !b) -> !act loc("conv1")
  %c2 = ios.conv2d %x, %w2, %b2 {padding = array<i64: 1, 1>, act = #ios.act<relu>} : (!act, !w, !b) -> !act loc("conv2")
  %c3 = ios.conv2d %c1, %w3, %b3 {padding = array<i64: 1, 1>, act = #ios.act<relu>} : (!act, !w, !b) -> !act loc("conv3")
  %c4 = ios.conv2d %c1, %w4, %b4 {padding = array<i64: 1, 1>, act = #ios.act<relu>} : (!act, !w, !b) -> !act loc("conv4")
  %cat = ios.concat %c2, %c3, %c4 : (!act, !act, !act) -> tensor<1x1125x15x15xf32> loc("concat")
  return %cat : tensor<1x1125x15x15xf32>
}
