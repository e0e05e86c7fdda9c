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

// A recording cut off in the middle of a write leaves a torn last line (no
// newline). Loading ignores it with a warning and keeps everything before it;
// the next recording cuts it off before appending.
// RUN: cp %t.jsonl %t.torn.jsonl
// RUN: printf '{"batch":1,"device":"v100","latency_ms":0.0123,"stage":"concurrent(conv{act=' >> %t.torn.jsonl
// RUN: ios-opt %s --ios-schedule="profiler=db:%t.torn.jsonl" 2> %t.torn.err > %t.torn.mlir
// RUN: FileCheck %s --check-prefix=TORN --input-file=%t.torn.err
// RUN: sed -e 's/profiler = "[^"]*"//' %t.torn.mlir > %t.torn.cmp
// RUN: diff %t.analytic.cmp %t.torn.cmp
// RUN: ios-opt %s --ios-schedule="profiler=db:%t.torn.jsonl device=a100 record=analytic" -o /dev/null
// RUN: %python %S/Inputs/check_db.py %t.torn.jsonl | FileCheck %s --check-prefix=REPAIRED
// RUN: ios-opt %s --ios-schedule="profiler=db:%t.torn.jsonl device=a100" -o /dev/null 2>&1 | count 0
// TORN: warning: stage database '{{.*}}torn.jsonl' line {{[0-9]+}}: ignoring an incomplete last record (an interrupted recording; the next recording removes it): {{.*}}
// TORN-NOT: warning
// REPAIRED: {{[1-9][0-9]*}} whole records, 2 devices, no key twice

// A last line that is whole but lacks its newline (written by hand) is kept:
// the next record goes on a line of its own.
// RUN: %python -c "import sys; d = open(sys.argv[1]).read(); open(sys.argv[2], 'w').write(d.rstrip(chr(10)))" %t.jsonl %t.nonl.jsonl
// RUN: ios-opt %s --ios-schedule="profiler=db:%t.nonl.jsonl device=a100 record=analytic" -o /dev/null 2>&1 | count 0
// RUN: %python %S/Inputs/check_db.py %t.nonl.jsonl | FileCheck %s --check-prefix=REPAIRED

// Any other malformed line is an error naming the file and the line.
// RUN: %python -c "import sys; l = open(sys.argv[1]).readlines(); l.insert(1, '{\"batch\": 1, \"device\": \"v100\", \"stage\": \"x\", \"latency_ms\"\n'); open(sys.argv[2], 'w').writelines(l)" %t.jsonl %t.bad.jsonl
// RUN: not ios-opt %s --ios-schedule="profiler=db:%t.bad.jsonl" 2>&1 | FileCheck %s --check-prefix=BADLINE
// BADLINE: error: ios-schedule: stage database '{{.*}}bad.jsonl' line 2: {{.*}}
// RUN: %python -c "import sys; l = open(sys.argv[1]).readlines(); l.insert(2, '{\"batch\": 1, \"device\": \"v100\", \"stage\": \"x\", \"latency_ms\": 1e300}\n'); open(sys.argv[2], 'w').writelines(l)" %t.jsonl %t.huge.jsonl
// RUN: not ios-opt %s --ios-schedule="profiler=db:%t.huge.jsonl" 2>&1 | FileCheck %s --check-prefix=HUGE
// HUGE: error: ios-schedule: stage database '{{.*}}huge.jsonl' line 3: expected {"device", "batch", "stage", "latency_ms" in [0, 1e+09]}
// RUN: not ios-opt %s --ios-schedule="profiler=db:/dev/zero" 2>&1 | FileCheck %s --check-prefix=NOTFILE
// NOTFILE: error: ios-schedule: stage database '/dev/zero' is not a regular file

// A recording killed with SIGKILL (here while it waits for its 4th
// measurement) keeps every measurement it had: the next run with the same
// recorder measures only the rest, and ends with the keys of a recording
// that was never interrupted.
// RUN: rm -f %t.killed.jsonl %t.whole.jsonl
// RUN: sh %S/Inputs/kill-recording.sh ios-opt %s %t.killed.jsonl %python | FileCheck %s --check-prefix=KILLED
// KILLED: ios-opt ended with status 137
// RUN: %python %S/Inputs/check_db.py %t.killed.jsonl | FileCheck %s --check-prefix=KEPT
// KEPT: 3 whole records, 1 devices, no key twice
// RUN: ios-opt %s --ios-schedule="profiler=db:%t.killed.jsonl record='exec:%python -m ios.cost_server'" -o /dev/null
// RUN: ios-opt %s --ios-schedule="profiler=db:%t.whole.jsonl record='exec:%python -m ios.cost_server'" -o /dev/null
// RUN: %python %S/Inputs/check_db.py %t.killed.jsonl %t.whole.jsonl | FileCheck %s --check-prefix=COMPLETE

// A full disk (here: a file size limit of 512 bytes) stops the recording with
// an error; the record that did not fit is taken back, so the file holds only
// whole records and the next run records the rest.
// RUN: rm -f %t.full.jsonl
// RUN: not sh -c 'ulimit -f 1; exec "$0" "$@"' ios-opt %s --ios-schedule="profiler=db:%t.full.jsonl record=analytic" 2>&1 | FileCheck %s --check-prefix=FULL
// FULL: error: ios-schedule failed on @{{[a-z_]+}}: cannot append to stage database '{{.*}}full.jsonl': File too large
// RUN: %python %S/Inputs/check_db.py %t.full.jsonl | FileCheck %s --check-prefix=PARTIAL
// PARTIAL: {{[1-9]}} whole records, 1 devices, no key twice
// RUN: ios-opt %s --ios-schedule="profiler=db:%t.full.jsonl record=analytic" -o /dev/null
// RUN: %python %S/Inputs/check_db.py %t.full.jsonl %t.jsonl | FileCheck %s --check-prefix=COMPLETE
// COMPLETE: {{[1-9][0-9]*}} whole records, 1 devices, no key twice, the same keys as {{.*}}

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
