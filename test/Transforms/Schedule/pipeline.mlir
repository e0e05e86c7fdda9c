// ios-schedule nests in a pass pipeline (it runs on any function-like op),
// reports its search statistics, and shares the profiler's stage costs
// between functions: the second, identical function costs no new stage.
// (Its pass statistics are declared too; Debian's release MLIR compiles
// pass statistics out, so -mlir-pass-statistics shows them only with an
// MLIR built with LLVM_ENABLE_STATS.)

// RUN: ios-opt %s --pass-pipeline="builtin.module(func.func(ios-schedule{max-groups=4}))" | FileCheck %s
// RUN: ios-opt %s --ios-schedule="report=%t.json" -o /dev/null
// RUN: %python -c "import json, sys; r = json.load(open(sys.argv[1])); f = r['functions']; print('calls', r['profiler_calls'], 'first', f['first']['stats']['total']['cost_calls'], 'second', f['second']['stats']['total']['cost_calls'], f['second']['stats']['total']['cache_hits'])" %t.json | FileCheck %s --check-prefix=SHARED
// RUN: ios-opt %s --ios-schedule="progress" -o /dev/null 2>&1 | FileCheck %s --check-prefix=PROGRESS
// RUN: ios-opt %s --ios-schedule -o /dev/null 2>&1 | count 0

// CHECK-LABEL: func.func @first
// CHECK-SAME:    ios.schedule = #ios.schedule<device = "v100", batch = 1, profiler = "analytic:v100", strategy = both, enumeration = ios, max_group_size = 3, max_groups = 4
// CHECK:         ios.stage concurrent
// CHECK-LABEL: func.func @second
// CHECK-SAME:    ios.schedule = #ios.schedule<
// CHECK:         ios.stage concurrent

// SHARED: calls 4 first 4 second 0 4

// PROGRESS: ios-schedule: @first: part 1/1 solved (3 units, 4 states, 13 transitions), 4 states in all, {{[0-9.]+}} s
// PROGRESS: ios-schedule: @second: part 1/1 solved

!x = tensor<1x8x16x16xf32>
func.func @first(%x: !x {ios.input}, %w: tensor<8x8x3x3xf32> {ios.param = "w"},
                 %b: tensor<8xf32> {ios.param = "b"}) -> !x {
  %0 = ios.conv2d %x, %w, %b {padding = array<i64: 1, 1>} : (!x, tensor<8x8x3x3xf32>, tensor<8xf32>) -> !x
  %1 = ios.activation relu %x : !x
  %2 = ios.add %0, %1 : !x
  return %2 : !x
}
func.func @second(%x: !x {ios.input}, %w: tensor<8x8x3x3xf32> {ios.param = "w"},
                  %b: tensor<8xf32> {ios.param = "b"}) -> !x {
  %0 = ios.conv2d %x, %w, %b {padding = array<i64: 1, 1>} : (!x, tensor<8x8x3x3xf32>, tensor<8xf32>) -> !x
  %1 = ios.activation relu %x : !x
  %2 = ios.add %0, %1 : !x
  return %2 : !x
}
