// Record a stage database with the analytic model, then replay it without
// the model: the schedule is the same, and a stage the database lacks is an
// error that names it.
// RUN: rm -f %t.jsonl
// RUN: ios-opt %s --ios-schedule="profiler=db:%t.jsonl record=analytic" > %t.recorded.mlir
// RUN: ios-opt %s --ios-schedule="profiler=analytic" > %t.analytic.mlir
// RUN: ios-opt %s --ios-schedule="profiler=db:%t.jsonl" > %t.replayed.mlir
// RUN: FileCheck %s --input-file=%t.replayed.mlir
// RUN: sed -e 's/profiler = "[^"]*"//' %t.recorded.mlir > %t.recorded.cmp
// RUN: sed -e 's/profiler = "[^"]*"//' %t.replayed.mlir > %t.replayed.cmp
// RUN: sed -e 's/profiler = "[^"]*"//' %t.analytic.mlir > %t.analytic.cmp
// RUN: diff %t.recorded.cmp %t.replayed.cmp
// RUN: diff %t.analytic.cmp %t.replayed.cmp
// RUN: %python -c "import json, sys; rows = [json.loads(l) for l in open(sys.argv[1])]; print(len(rows), 'rows', sorted({r['device'] for r in rows}), sorted({r['batch'] for r in rows}))" %t.jsonl | FileCheck %s --check-prefix=ROWS
// RUN: not ios-opt %s --ios-schedule="profiler=db:%t.jsonl device=a100" 2>&1 | FileCheck %s --check-prefix=MISS

// CHECK-LABEL: func.func @pair
// CHECK-SAME:    profiler = "db:{{.*}}.jsonl"
// CHECK:         ios.stage
// ROWS: {{[1-9][0-9]*}} rows ['v100'] [1]
// MISS: error: ios-schedule failed on @{{[a-z_]+}}: stage database '{{.*}}.jsonl' has no measurement for device 'a100', batch 1, stage

!t = tensor<1x16x8x8xf32>
!w = tensor<16x16x3x3xf32>
!b = tensor<16xf32>
func.func @pair(%x: !t {ios.input}, %wa: !w {ios.param = "a.w"}, %ba: !b {ios.param = "a.b"},
                %wb: !w {ios.param = "b.w"}, %bb: !b {ios.param = "b.b"}) -> !t {
  %a = ios.conv2d %x, %wa, %ba {padding = array<i64: 1, 1>} : (!t, !w, !b) -> !t
  %b = ios.conv2d %x, %wb, %bb {padding = array<i64: 1, 1>} : (!t, !w, !b) -> !t
  %s = ios.add %a, %b : !t
  return %s : !t
}
