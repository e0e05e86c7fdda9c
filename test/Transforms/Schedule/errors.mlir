// Bad options, bad profilers and unschedulable IR: each is one clear error
// and a non-zero exit.

// RUN: not ios-opt %s --ios-schedule="profiler=magic" 2>&1 | FileCheck %s --check-prefix=PROFILER
// PROFILER: error: ios-schedule: unknown profiler 'magic': expected one of analytic, table, exec, exec-parallel, db, cpu, cuda

// Enum-valued options fail when the command line is parsed, naming the
// valid values, before any IR is read or changed.
// RUN: not ios-opt %s --ios-schedule="strategy=fastest" 2>&1 | FileCheck %s --check-prefix=STRATEGY
// STRATEGY: for the --strategy option: 'fastest' is not one of: both, concurrent, merge, sequential, greedy
// STRATEGY-NOT: func.func

// RUN: not ios-opt %s --pass-pipeline="builtin.module(func.func(ios-schedule{enumeration=all}))" 2>&1 | FileCheck %s --check-prefix=ENUM
// ENUM: for the --enumeration option: 'all' is not one of: ios, full

// RUN: not ios-opt %s --ios-schedule="units=layers" 2>&1 | FileCheck %s --check-prefix=UNITS
// UNITS: for the --units option: 'layers' is not one of: op, chain

// RUN: not ios-opt %s --ios-schedule="max-part-size=200" 2>&1 | FileCheck %s --check-prefix=PART
// PART: error: ios-schedule: max-part-size must be in [1, 128], got 200

// RUN: not ios-opt %s --ios-schedule="max-groups=0" 2>&1 | FileCheck %s --check-prefix=GROUPS
// GROUPS: error: ios-schedule: max-group-size and max-groups must be positive

// RUN: not ios-opt %s --ios-schedule="device=tpu" 2>&1 | FileCheck %s --check-prefix=DEVICE
// DEVICE: error: ios-schedule: unknown device 'tpu': not one of v100, a100, h100 and not a readable JSON device file

// RUN: not ios-opt %s --ios-schedule="profiler=table:%S/Inputs/does-not-exist.json" 2>&1 | FileCheck %s --check-prefix=NOTABLE
// NOTABLE: error: ios-schedule: cost table '{{.*}}does-not-exist.json': cannot read

// RUN: not ios-opt %s --ios-schedule="profiler=table:%S/Inputs/sample-table.json" 2>&1 | FileCheck %s --check-prefix=NOOP
// NOOP: errors.mlir:{{[0-9]+}}:1: error: ios-schedule failed on @{{[a-z_]+}}: cost table '{{.*}}sample-table.json': no cost for op 'ios.conv2d#0' (stage {{\[\[}}ios.conv2d#0{{\]\]}})

// RUN: not ios-opt %s --ios-schedule="profiler=db:%t.missing.jsonl" 2>&1 | FileCheck %s --check-prefix=NODB
// NODB: error: ios-schedule: stage database '{{.*}}missing.jsonl' does not exist; create it with record=PROFILER

// RUN: not ios-opt %s --ios-schedule="profiler='exec:exit 3'" 2>&1 | FileCheck %s --check-prefix=EXIT
// EXIT: error: ios-schedule failed on @{{[a-z_]+}}: cost server 'exit 3' exited with status 3 before answering

// RUN: not ios-opt %s --ios-schedule="profiler='exec:sh %S/Inputs/fake-server.sh garbage'" 2>&1 | FileCheck %s --check-prefix=GARBAGE
// GARBAGE: error: ios-schedule failed on @{{[a-z_]+}}: cost server 'sh {{.*}}fake-server.sh garbage' answered garbage 'not-json':

// RUN: not ios-opt %s --ios-schedule="profiler='exec:sh %S/Inputs/fake-server.sh error'" 2>&1 | FileCheck %s --check-prefix=REPLYERR
// REPLYERR: error: ios-schedule failed on @{{[a-z_]+}}: cost server '{{.*}}' reported an error: no GPU here

// RUN: not ios-opt %s --ios-schedule="profiler='exec:sh %S/Inputs/fake-server.sh badid'" 2>&1 | FileCheck %s --check-prefix=BADID
// BADID: error: ios-schedule failed on @{{[a-z_]+}}: cost server '{{.*}}' answered '{"id": 9, "latency_ms": 1}' to request 0: wrong or missing "id"

// RUN: not ios-opt %s --ios-schedule="profiler='exec:sh %S/Inputs/fake-server.sh negative'" 2>&1 | FileCheck %s --check-prefix=NEGATIVE
// NEGATIVE: error: ios-schedule failed on @{{[a-z_]+}}: cost server '{{.*}}' answered '{{.*}}': "latency_ms" must be a non-negative number

// A finite latency that is absurd (it would become INF in the IR and make
// the schedule arbitrary) stops the search, whichever profiler gave it.
// RUN: not ios-opt %s --ios-schedule="profiler='exec:sh %S/Inputs/fake-server.sh huge'" 2>&1 | FileCheck %s --check-prefix=HUGE
// HUGE: error: ios-schedule failed on @{{[a-z_]+}}: profiler 'exec:sh {{.*}}fake-server.sh huge' returned latency 1.000000e+308 ms for stage concurrent(conv{{.*}}); a latency must be finite and in [0, 1e+09] ms

// RUN: not ios-opt %s --ios-schedule="profiler='exec:sh %S/Inputs/fake-server.sh silent' exec-timeout=0.3" 2>&1 | FileCheck %s --check-prefix=TIMEOUT
// TIMEOUT: error: ios-schedule failed on @{{[a-z_]+}}: cost server 'sh {{.*}}fake-server.sh silent' did not answer within 0.30 s

// A server that times out is ended with everything it started (its process
// group), so nothing outlives ios-opt or holds its output open.
// RUN: rm -f %t.orphan.pid
// RUN: not ios-opt %s --ios-schedule="profiler='exec:sh %S/Inputs/fake-server.sh orphan %t.orphan.pid' exec-timeout=1" > %t.orphan.out 2>&1
// RUN: FileCheck %s --check-prefix=ORPHAN --input-file=%t.orphan.out
// ORPHAN: cost server 'sh {{.*}}fake-server.sh orphan {{.*}}' did not answer within 1.00 s
// RUN: %python %S/Inputs/is_gone.py %t.orphan.pid | FileCheck %s --check-prefix=GONE
// GONE: gone

// exec-timeout is a positive number of seconds, or inf.
// RUN: not ios-opt %s --ios-schedule="profiler='exec:sh %S/Inputs/fake-server.sh error' exec-timeout=nan" 2>&1 | FileCheck %s --check-prefix=TIMEOUT-NAN
// TIMEOUT-NAN: error: ios-schedule: exec-timeout must be a positive number of seconds (or inf: no timeout), got nan
// RUN: not ios-opt %s --ios-schedule="profiler='exec:sh %S/Inputs/fake-server.sh error' exec-timeout=-1" 2>&1 | FileCheck %s --check-prefix=TIMEOUT-NEG
// TIMEOUT-NEG: error: ios-schedule: exec-timeout must be a positive number of seconds (or inf: no timeout), got -1.00
// RUN: not ios-opt %s --ios-schedule="profiler=cpu exec-timeout=0" 2>&1 | FileCheck %s --check-prefix=TIMEOUT-ZERO
// TIMEOUT-ZERO: error: ios-schedule: exec-timeout must be a positive number of seconds (or inf: no timeout), got 0.00

!t = tensor<1x16x8x8xf32>
!w = tensor<16x16x1x1xf32>
!b = tensor<16xf32>
func.func @pair(%x: !t {ios.input}, %wa: !w {ios.param = "a.w"}, %ba: !b {ios.param = "a.b"}) -> !t {
  %a = ios.conv2d %x, %wa, %ba : (!t, !w, !b) -> !t
  %r = ios.activation relu %a : !t
  return %r : !t
}

// A report that cannot be written is one diagnostic, not a crash.
// RUN: not ios-opt %s --ios-schedule="report=%t.missing-dir/report.json" -o /dev/null 2>&1 | FileCheck %s --check-prefix=REPORT
// REPORT: error: ios-schedule: cannot write '{{.*}}missing-dir/report.json': cannot create a temporary file next to it
