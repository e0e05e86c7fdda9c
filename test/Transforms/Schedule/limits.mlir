// RUN: ios-opt %s -split-input-file --ios-schedule="strategy=concurrent max-groups=2 profiler=table:%S/Inputs/limits-table.json" | FileCheck %s --check-prefix=S2
// RUN: ios-opt %s -split-input-file --ios-schedule="strategy=concurrent max-groups=8 profiler=table:%S/Inputs/limits-table.json" | FileCheck %s --check-prefix=S8
// RUN: ios-opt %s -split-input-file --ios-schedule="strategy=concurrent max-group-size=2 profiler=table:%S/Inputs/limits-table.json" | FileCheck %s --check-prefix=R2

// With free joins every op wants to run beside every other: s bounds the
// groups of a stage, r the ops of a group.

!t = tensor<1x4x8x8xf32>

// S2-LABEL: func.func @wide
// S2:         ios.stage concurrent latency_ms = 1.000000e-01 {
// S2-COUNT-2:   ios.group
// S2-NOT:       ios.group
// S2:         ios.stage concurrent latency_ms = 1.000000e-01 {
// S2-COUNT-2:   ios.group
// S2-NOT:       ios.group
// S2:         ios.stage concurrent latency_ms = 1.000000e-02 {
// S8-LABEL: func.func @wide
// S8:         ios.stage concurrent latency_ms = 1.000000e-01 {
// S8-COUNT-4:   ios.group
// S8:         ios.stage concurrent latency_ms = 1.000000e-02 {
func.func @wide(%x: !t {ios.input}) -> tensor<1x16x8x8xf32> {
  %1 = ios.activation relu %x : !t loc("c1")
  %2 = ios.activation relu %x : !t loc("c2")
  %3 = ios.activation tanh %x : !t loc("c3")
  %4 = ios.activation sigmoid %x : !t loc("c4")
  %c = ios.concat %1, %2, %3, %4 : (!t, !t, !t, !t) -> tensor<1x16x8x8xf32> loc("cat")
  return %c : tensor<1x16x8x8xf32>
}

// -----

!t = tensor<1x4x8x8xf32>

// A chain of four: with r = 3 (default) one group cannot hold it all, with
// r = 2 every group holds at most two ops.
// R2-LABEL: func.func @chain
// R2:         ios.stage concurrent latency_ms = 2.000000e-01 {
// R2-NEXT:      ios.group {
// R2-NEXT:        ios.activation relu
// R2-NEXT:        ios.activation tanh
// R2-NEXT:        ios.yield
// R2:         ios.stage concurrent latency_ms = 2.000000e-01 {
// R2-NEXT:      ios.group {
// R2-NEXT:        ios.activation sigmoid
// R2-NEXT:        ios.activation relu
// R2-NEXT:        ios.yield
func.func @chain(%x: !t {ios.input}) -> !t {
  %1 = ios.activation relu %x : !t loc("r1")
  %2 = ios.activation tanh %1 : !t loc("r2")
  %3 = ios.activation sigmoid %2 : !t loc("r3")
  %4 = ios.activation relu %3 : !t loc("r4")
  return %4 : !t
}
