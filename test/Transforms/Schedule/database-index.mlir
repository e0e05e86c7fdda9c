// A stage database loads from its binary index (FILE.index) when the JSON
// lines are unchanged, or only appended to, since the index was written;
// otherwise from the JSON, and the index is written anew. The JSON stays the
// truth: an index that does not match is never used.
// RUN: rm -f %t.jsonl %t.jsonl.index
// RUN: ios-opt %s --ios-schedule="profiler=db:%t.jsonl record=analytic" > %t.analytic.mlir
// The first replay parses the JSON and writes the index.
// RUN: ios-opt %s --ios-schedule="profiler=db:%t.jsonl" > %t.first.mlir
// RUN: %python %S/Inputs/db_index.py show %t.jsonl | FileCheck %s --check-prefix=SHOW
// SHOW: IOSDBIX1 covers all bytes, [[LINES:[1-9][0-9]*]] lines, [[LINES]] records, whole True
// RUN: %python %S/Inputs/db_index.py ratio %t.first.mlir %t.analytic.mlir | FileCheck %s --check-prefix=SAME
// SAME: ratio 1.000

// The index is what a replay reads: latencies doubled in it (the JSON
// untouched) double the schedule's latency.
// RUN: %python %S/Inputs/db_index.py scale %t.jsonl 2
// RUN: ios-opt %s --ios-schedule="profiler=db:%t.jsonl" > %t.scaled.mlir
// RUN: %python %S/Inputs/db_index.py ratio %t.scaled.mlir %t.analytic.mlir | FileCheck %s --check-prefix=DOUBLE
// DOUBLE: ratio 2.000

// Records appended (another device) leave the covered bytes as they were:
// the index still answers for them, the new lines are parsed, and the index
// is rewritten to cover them too.
// RUN: ios-opt %s --ios-schedule="profiler=db:%t.jsonl device=a100 record=analytic" -o /dev/null
// RUN: ios-opt %s --ios-schedule="profiler=db:%t.jsonl" > %t.appended.mlir
// RUN: %python %S/Inputs/db_index.py ratio %t.appended.mlir %t.analytic.mlir | FileCheck %s --check-prefix=DOUBLE
// RUN: ios-opt %s --ios-schedule="profiler=db:%t.jsonl device=a100" -o /dev/null
// RUN: %python %S/Inputs/db_index.py show %t.jsonl | FileCheck %s --check-prefix=GROWN
// GROWN: IOSDBIX1 covers all bytes, [[LINES:[1-9][0-9]*]] lines, [[LINES]] records, whole True

// A JSON line changed (same length, so only the mtime and the bytes tell):
// the index no longer matches, the JSON is parsed and the index rewritten.
// RUN: %python -c "import sys; p = sys.argv[1]; d = open(p).read(); open(p, 'w').write(d.replace('{\"batch\":1,\"device\":\"v100\",', '{\"device\":\"v100\",\"batch\":1,', 1))" %t.jsonl
// RUN: ios-opt %s --ios-schedule="profiler=db:%t.jsonl" > %t.edited.mlir
// RUN: %python %S/Inputs/db_index.py ratio %t.edited.mlir %t.analytic.mlir | FileCheck %s --check-prefix=SAME

// A torn index (cut short) is ignored and rewritten.
// RUN: %python %S/Inputs/db_index.py scale %t.jsonl 3
// RUN: %python -c "import sys; p = sys.argv[1] + '.index'; d = open(p, 'rb').read(); open(p, 'wb').write(d[:-5])" %t.jsonl
// RUN: ios-opt %s --ios-schedule="profiler=db:%t.jsonl" > %t.torn.mlir
// RUN: %python %S/Inputs/db_index.py ratio %t.torn.mlir %t.analytic.mlir | FileCheck %s --check-prefix=SAME
// RUN: %python %S/Inputs/db_index.py show %t.jsonl | FileCheck %s --check-prefix=GROWN

// A torn last JSON line is outside what the index covers: each load warns
// about it (the next recording removes it), the index still answers for
// the rest.
// RUN: printf '{"batch":1,"device":"v100","latency_ms":0.0123,"stage":"concurrent(conv{act=' >> %t.jsonl
// RUN: ios-opt %s --ios-schedule="profiler=db:%t.jsonl" 2>&1 > %t.tail.mlir | FileCheck %s --check-prefix=TORN
// RUN: ios-opt %s --ios-schedule="profiler=db:%t.jsonl" 2>&1 > %t.tail.mlir | FileCheck %s --check-prefix=TORN
// TORN: warning: stage database '{{.*}}.jsonl' line [[N:[0-9]+]]: ignoring an incomplete last record
// RUN: %python %S/Inputs/db_index.py ratio %t.tail.mlir %t.analytic.mlir | FileCheck %s --check-prefix=SAME

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
