// The batched exec: protocol (docs/ExecProtocol.md, "Batches"). A server that
// announces max_batch in its first reply gets the rest of the search's stages
// in batches; one that does not (the one-stage protocol) never sees a batch.
// Either way, and with batches of at most 1 or 2 stages (the server's
// --max-batch) or prune=none, the schedule is the same.
// RUN: rm -f %t.ok.log %t.v1.log
// RUN: ios-opt %s --ios-schedule="profiler='exec:%python %S/Inputs/batch-server.py ok %t.ok.log' report=%t.ok.json" > %t.ok.mlir
// RUN: ios-opt %s --ios-schedule="profiler='exec:%python %S/Inputs/batch-server.py v1 %t.v1.log' report=%t.v1.json" > %t.v1.mlir
// RUN: ios-opt %s --ios-schedule="profiler='exec:%python -m ios.cost_server --gmacs 1 --max-batch 1'" > %t.one.mlir
// RUN: ios-opt %s --ios-schedule="profiler='exec:%python %S/Inputs/batch-server.py ok' prune=none" > %t.none.mlir
// RUN: ios-opt %s --ios-schedule="profiler='exec:%python -m ios.cost_server --gmacs 1 --max-batch 2'" > %t.two.mlir
// RUN: FileCheck %s --input-file=%t.ok.mlir
// RUN: sed -e 's/profiler = "[^"]*"//' %t.ok.mlir > %t.ok.cmp
// RUN: sed -e 's/profiler = "[^"]*"//' %t.v1.mlir > %t.v1.cmp
// RUN: sed -e 's/profiler = "[^"]*"//' %t.one.mlir > %t.one.cmp
// RUN: sed -e 's/profiler = "[^"]*"//' %t.none.mlir > %t.none.cmp
// RUN: sed -e 's/profiler = "[^"]*"//' %t.two.mlir > %t.two.cmp
// RUN: diff %t.ok.cmp %t.v1.cmp
// RUN: diff %t.ok.cmp %t.one.cmp
// RUN: diff %t.ok.cmp %t.none.cmp
// RUN: diff %t.ok.cmp %t.two.cmp
// profiler=exec-parallel: (the server's answers do not depend on this
// machine's load): Inception V3's parts are searched on two threads sharing the server,
// one request at a time; the schedule is the same, and every op is still
// sent once (the refs server checks).
// RUN: %python -m ios.zoo inception_v3 > %t.inception.mlir
// RUN: env IOS_SCHED_THREADS=2 ios-opt %t.inception.mlir --ios-schedule="profiler='exec:%python %S/Inputs/batch-server.py refs'" | sed -e 's/profiler = "[^"]*"//' > %t.serial.cmp
// RUN: env IOS_SCHED_THREADS=2 ios-opt %t.inception.mlir --ios-schedule="profiler='exec-parallel:%python %S/Inputs/batch-server.py refs'" | sed -e 's/profiler = "[^"]*"//' > %t.parallel.cmp
// RUN: FileCheck %s --check-prefix=INCEPTION < %t.parallel.cmp
// RUN: diff %t.serial.cmp %t.parallel.cmp
// INCEPTION: ios.stage concurrent
// A server that takes op references gets every op once per session and
// stages of references (the refs server checks both), and the schedule is
// the same; so with the example server, with and without them.
// RUN: rm -f %t.refs.log
// RUN: ios-opt %s --ios-schedule="profiler='exec:%python %S/Inputs/batch-server.py refs %t.refs.log'" > %t.refs.mlir
// RUN: ios-opt %s --ios-schedule="profiler='exec:%python -m ios.cost_server --gmacs 1 --no-op-refs'" > %t.norefs.mlir
// RUN: ios-opt %s --ios-schedule="profiler='exec:%python -m ios.cost_server --gmacs 1'" > %t.withrefs.mlir
// RUN: sed -e 's/profiler = "[^"]*"//' %t.refs.mlir > %t.refs.cmp
// RUN: sed -e 's/profiler = "[^"]*"//' %t.norefs.mlir > %t.norefs.cmp
// RUN: sed -e 's/profiler = "[^"]*"//' %t.withrefs.mlir > %t.withrefs.cmp
// RUN: diff %t.ok.cmp %t.refs.cmp
// RUN: diff %t.norefs.cmp %t.withrefs.cmp
// RUN: FileCheck %s --check-prefix=REFSLOG < %t.refs.log
// The first request (one conv) writes its op out; the next defines the ops
// it uses and refers to them; later ones define only ops not sent before (the
// first conv's op, sent before references, once more) and refer.
// REFSLOG:      1
// REFSLOG-NEXT: ops 0 refs 0
// REFSLOG-NEXT: 4
// REFSLOG-NEXT: ops 4 refs 4
// REFSLOG:      ops 0 refs {{[1-9][0-9]*}}
// The batching server got its first stage alone, then the other distinct
// unit stages of the part together (4: the adds are equal), then batches;
// the old one got one stage per request, as many requests as the search
// made calls.
// RUN: %python -c "import sys; n = [int(x) for x in open(sys.argv[1]).read().split()]; print('first', n[0], 'then', n[1], 'largest', max(n))" %t.ok.log | FileCheck %s --check-prefix=OKLOG
// OKLOG: first 1 then 4 largest {{[4-9]|[1-9][0-9]+}}
// RUN: %python -c "import json, sys; n = open(sys.argv[1]).read().split(); calls = json.load(open(sys.argv[2]))['profiler_calls']; print('v1', set(n), len(n) == calls)" %t.v1.log %t.v1.json | FileCheck %s --check-prefix=V1LOG
// V1LOG: v1 {'1'} True

// A batch reply that is short, answers another id, carries an error, a
// negative latency or garbage; a server that dies or stays silent on a
// batch; a max_batch that is not a positive integer: each stops the search
// with an error naming the server and what it did.
// RUN: not ios-opt %s --ios-schedule="profiler='exec:%python %S/Inputs/batch-server.py short'" 2>&1 | FileCheck %s --check-prefix=SHORT
// SHORT: error: ios-schedule failed on @fan: cost server '{{.*}}batch-server.py short' answered '{"id": 1, "latencies_ms": [{{.*}}]}' to a request of [[N:[0-9]+]] stages: "latencies_ms" must list [[N]] latencies, got {{[0-9]+}}
// RUN: not ios-opt %s --ios-schedule="profiler='exec:%python %S/Inputs/batch-server.py badid'" 2>&1 | FileCheck %s --check-prefix=BADID
// BADID: error: ios-schedule failed on @fan: cost server '{{.*}}' answered '{"id": 6, "latencies_ms": [{{.*}}]}' to request 1: wrong or missing "id"
// RUN: not ios-opt %s --ios-schedule="profiler='exec:%python %S/Inputs/batch-server.py error'" 2>&1 | FileCheck %s --check-prefix=ERROR
// ERROR: error: ios-schedule failed on @fan: cost server '{{.*}}' reported an error: stage 1: no GPU here
// RUN: not ios-opt %s --ios-schedule="profiler='exec:%python %S/Inputs/batch-server.py negative'" 2>&1 | FileCheck %s --check-prefix=NEGATIVE
// NEGATIVE: error: ios-schedule failed on @fan: cost server '{{.*}}' answered '{{.*}}': "latencies_ms"[{{[0-9]+}}] must be a non-negative number
// RUN: not ios-opt %s --ios-schedule="profiler='exec:%python %S/Inputs/batch-server.py garbage'" 2>&1 | FileCheck %s --check-prefix=GARBAGE
// GARBAGE: error: ios-schedule failed on @fan: cost server '{{.*}}' answered garbage 'not-json':
// RUN: not ios-opt %s --ios-schedule="profiler='exec:%python %S/Inputs/batch-server.py die'" 2>&1 | FileCheck %s --check-prefix=DIE
// DIE: error: ios-schedule failed on @fan: cost server '{{.*}}batch-server.py die' exited with status 3 before answering
// RUN: not ios-opt %s --ios-schedule="profiler='exec:%python %S/Inputs/batch-server.py silent' exec-timeout=1" 2>&1 | FileCheck %s --check-prefix=SILENT
// SILENT: error: ios-schedule failed on @fan: cost server '{{.*}}batch-server.py silent' did not answer a request of 2 stages within 2.00 s (1.00 s per stage)
// RUN: not ios-opt %s --ios-schedule="profiler='exec:%python %S/Inputs/batch-server.py badmax'" 2>&1 | FileCheck %s --check-prefix=BADMAX
// RUN: not ios-opt %s --ios-schedule="profiler='exec:%python %S/Inputs/batch-server.py badrefs'" 2>&1 | FileCheck %s --check-prefix=BADREFS
// BADREFS: error: ios-schedule failed on @fan: cost server '{{.*}}' answered '{"id": 0, "latency_ms": {{.*}}, "op_refs": "yes"}': "op_refs" must be a boolean
// BADMAX: error: ios-schedule failed on @fan: cost server '{{.*}}' answered '{"id": 0, "latency_ms": {{.*}}, "max_batch": "lots"}': "max_batch" must be a positive integer

// Four convolutions of different shapes read %x; their sum is the result.
!t = tensor<1x16x8x8xf32>
!b = tensor<16xf32>

// CHECK-LABEL: func.func @fan
// CHECK-SAME:    strategy = both
// CHECK:         ios.stage
func.func @fan(%x: !t {ios.input},
               %w1: tensor<16x16x1x1xf32> {ios.param = "w1"}, %b1: !b {ios.param = "b1"},
               %w3: tensor<16x16x3x3xf32> {ios.param = "w3"}, %b3: !b {ios.param = "b3"},
               %w5: tensor<16x16x5x5xf32> {ios.param = "w5"}, %b5: !b {ios.param = "b5"},
               %w7: tensor<16x16x7x7xf32> {ios.param = "w7"}, %b7: !b {ios.param = "b7"}) -> !t {
  %a = ios.conv2d %x, %w1, %b1 : (!t, tensor<16x16x1x1xf32>, !b) -> !t
  %b = ios.conv2d %x, %w3, %b3 {padding = array<i64: 1, 1>} : (!t, tensor<16x16x3x3xf32>, !b) -> !t
  %c = ios.conv2d %x, %w5, %b5 {padding = array<i64: 2, 2>} : (!t, tensor<16x16x5x5xf32>, !b) -> !t
  %d = ios.conv2d %x, %w7, %b7 {padding = array<i64: 3, 3>} : (!t, tensor<16x16x7x7xf32>, !b) -> !t
  %ab = ios.add %a, %b : !t
  %cd = ios.add %c, %d : !t
  %s = ios.add %ab, %cd : !t
  return %s : !t
}
