// RUN: ios-opt %s --ios-schedule="strategy=concurrent profiler=table:%S/Inputs/full-table.json" | FileCheck %s --check-prefix=IOS
// RUN: ios-opt %s --ios-schedule="strategy=concurrent enumeration=full profiler=table:%S/Inputs/full-table.json" | FileCheck %s --check-prefix=FULL

// a -> c <- b. IOS's endings make every group an op plus all its remaining
// descendants, so {a, b, c} can only end a schedule as [a | b] then [c] (or
// with c in a's or b's group). The full enumeration also considers the
// ending {a, b, c} as one group with two sources, which the table makes
// cheap: full beats ios.

!t = tensor<1x4x8x8xf32>

// IOS-LABEL: func.func @join
// IOS-SAME:    enumeration = ios{{.*}}latency_ms = 2.500000e-01 : f64
// IOS:         ios.stage concurrent latency_ms = 0.15000000000000002
// IOS:         ios.stage concurrent latency_ms = 1.000000e-01
// FULL-LABEL: func.func @join
// FULL-SAME:    enumeration = full{{.*}}latency_ms = 1.200000e-01 : f64
// FULL:         ios.stage concurrent latency_ms = 1.200000e-01 {
// FULL-NEXT:      ios.group {
// FULL-NEXT:        ios.activation relu
// FULL-NEXT:        ios.activation tanh
// FULL-NEXT:        ios.add
// FULL-NOT:     ios.stage
func.func @join(%x: !t {ios.input}) -> !t {
  %a = ios.activation relu %x : !t loc("a")
  %b = ios.activation tanh %x : !t loc("b")
  %c = ios.add %a, %b : !t loc("c")
  return %c : !t
}
