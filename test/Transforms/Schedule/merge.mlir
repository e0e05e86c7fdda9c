// RUN: ios-opt %s -split-input-file --ios-schedule="strategy=merge profiler=table:%S/Inputs/merge-table.json" | FileCheck %s
// RUN: ios-opt %s -split-input-file --ios-schedule="strategy=merge profiler=table:%S/Inputs/merge-table.json" | ios-opt -split-input-file | FileCheck %s

// Convolutions with different kernels merge when their input, stride and
// activation agree: smaller kernels are zero-padded to the largest, centred,
// which computes the same function because the paddings grow by half the
// kernel growth ("same" convolutions).

!x = tensor<1x8x16x16xf32>

// CHECK-LABEL: func.func @kernels
// CHECK-SAME:    latency_ms = 1.250000e-01 : f64
// CHECK-DAG:     %[[ZERO:.*]] = arith.constant 0.000000e+00 : f32
// CHECK-DAG:     %[[P1:.*]] = tensor.pad %arg1 low[0, 0, 2, 2] high[0, 0, 2, 2]
// CHECK:           tensor.yield %[[ZERO]] : f32
// CHECK:         } : tensor<4x8x1x1xf32> to tensor<4x8x5x5xf32>
// CHECK:         %[[P3:.*]] = tensor.pad %arg3 low[0, 0, 1, 1] high[0, 0, 1, 1]
// CHECK:         } : tensor<6x8x3x3xf32> to tensor<6x8x5x5xf32>
// CHECK:         %[[W:.*]] = tensor.concat dim(0) %[[P1]], %[[P3]], %arg5 : {{.*}} -> tensor<18x8x5x5xf32>
// CHECK:         %[[B:.*]] = tensor.concat dim(0) %arg2, %arg4, %arg6 : {{.*}} -> tensor<18xf32>
// CHECK:         %[[S:.*]]:3 = ios.stage merge latency_ms = 1.150000e-01 {
// CHECK:             %[[M:.*]] = ios.conv2d %arg0, %[[W]], %[[B]] {act = #ios.act<relu>, ios.name = "k1+k3+k5", padding = array<i64: 2, 2>} : {{.*}} -> tensor<1x18x16x16xf32>
// CHECK-NEXT:        ios.slice %[[M]][0 : 4]
// CHECK-NEXT:        ios.slice %[[M]][4 : 10]
// CHECK-NEXT:        ios.slice %[[M]][10 : 18]
// CHECK:         ios.stage concurrent latency_ms = 1.000000e-02 {
// CHECK:             ios.concat %[[S]]#0, %[[S]]#1, %[[S]]#2
func.func @kernels(%x: !x {ios.input},
                   %w1: tensor<4x8x1x1xf32> {ios.param = "k1.w"}, %b1: tensor<4xf32> {ios.param = "k1.b"},
                   %w3: tensor<6x8x3x3xf32> {ios.param = "k3.w"}, %b3: tensor<6xf32> {ios.param = "k3.b"},
                   %w5: tensor<8x8x5x5xf32> {ios.param = "k5.w"}, %b5: tensor<8xf32> {ios.param = "k5.b"}) -> tensor<1x18x16x16xf32> {
  %1 = ios.conv2d %x, %w1, %b1 {act = #ios.act<relu>} : (!x, tensor<4x8x1x1xf32>, tensor<4xf32>) -> tensor<1x4x16x16xf32> loc("k1")
  %3 = ios.conv2d %x, %w3, %b3 {padding = array<i64: 1, 1>, act = #ios.act<relu>} : (!x, tensor<6x8x3x3xf32>, tensor<6xf32>) -> tensor<1x6x16x16xf32> loc("k3")
  %5 = ios.conv2d %x, %w5, %b5 {padding = array<i64: 2, 2>, act = #ios.act<relu>} : (!x, tensor<8x8x5x5xf32>, tensor<8xf32>) -> tensor<1x8x16x16xf32> loc("k5")
  %c = ios.concat %1, %3, %5 : (tensor<1x4x16x16xf32>, tensor<1x6x16x16xf32>, tensor<1x8x16x16xf32>) -> tensor<1x18x16x16xf32> loc("cat")
  return %c : tensor<1x18x16x16xf32>
}

// -----

!x = tensor<1x8x17x17xf32>
!y = tensor<1x8x17x17xf32>

// Inception's 1x7 / 7x1 pair: the merged kernel is 7x7, padding [3, 3].
// CHECK-LABEL: func.func @asymmetric
// CHECK:         tensor.pad %arg1 low[0, 0, 3, 0] high[0, 0, 3, 0]
// CHECK:         tensor.pad %arg3 low[0, 0, 0, 3] high[0, 0, 0, 3]
// CHECK:         ios.stage merge
// CHECK:           ios.conv2d %arg0, {{.*}} {ios.name = "h+v", padding = array<i64: 3, 3>} : {{.*}}tensor<16x8x7x7xf32>{{.*}} -> tensor<1x16x17x17xf32>
func.func @asymmetric(%x: !x {ios.input},
                      %wh: tensor<8x8x1x7xf32> {ios.param = "h.w"}, %bh: tensor<8xf32> {ios.param = "h.b"},
                      %wv: tensor<8x8x7x1xf32> {ios.param = "v.w"}, %bv: tensor<8xf32> {ios.param = "v.b"}) -> (!y, !y) {
  %h = ios.conv2d %x, %wh, %bh {padding = array<i64: 0, 3>} : (!x, tensor<8x8x1x7xf32>, tensor<8xf32>) -> !y loc("h")
  %v = ios.conv2d %x, %wv, %bv {padding = array<i64: 3, 0>} : (!x, tensor<8x8x7x1xf32>, tensor<8xf32>) -> !y loc("v")
  return %h, %v : !y, !y
}
