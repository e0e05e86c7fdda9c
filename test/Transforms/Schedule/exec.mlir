// RUN: ios-opt %s -split-input-file --ios-schedule="profiler='exec:%python -m ios.cost_server --gmacs 1 --op-us 5 --join-us 10' report=%t.json" | FileCheck %s
// RUN: %python -c "import json,sys; r=json.load(open(sys.argv[1])); f=r['functions']['pair']; print('calls', r['profiler_calls'], 'states', sum(p['states'] for p in f['stats']['parts']))" %t.json | FileCheck %s --check-prefix=REPORT
// No timeout (inf, or too far to be a deadline) is a valid exec-timeout.
// RUN: ios-opt %s -split-input-file --ios-schedule="profiler='exec:%python -m ios.cost_server --gmacs 1 --op-us 5 --join-us 10' exec-timeout=inf" | FileCheck %s
// RUN: ios-opt %s -split-input-file --ios-schedule="profiler='exec:%python -m ios.cost_server --gmacs 1 --op-us 5 --join-us 10' exec-timeout=1e300" | FileCheck %s
// When the search ends, the server's process group ends too: a process the
// server left running in the background is gone once ios-opt has exited.
// RUN: rm -f %t.pid
// RUN: ios-opt %s -split-input-file --ios-schedule="profiler='exec:sh %S/Inputs/fake-server.sh background %t.pid %python'" -o %t.mlir
// RUN: %python %S/Inputs/is_gone.py %t.pid | FileCheck %s --check-prefix=GONE
// GONE: gone

// The exec: profiler drives the search through python/ios/cost_server.py.
// With 1 GMAC/s, 5 us per op and 10 us per join: conv A and conv B (16384
// MACs each) cost 21.384 us, the add 6.024 us. Best: [A | B] (31.384 us),
// then the add: 37.408 us; sequential 48.792 us.

!t = tensor<1x16x8x8xf32>
!w = tensor<16x16x1x1xf32>
!b = tensor<16xf32>

// CHECK-LABEL: func.func @pair
// CHECK-SAME:    profiler = "exec:{{.*}}cost_server{{.*}}", strategy = both
// CHECK-SAME:    latency_ms = 0.037408000000000004 : f64, sequential_ms = 4.879200e-02 : f64
// CHECK:         ios.stage concurrent latency_ms = 3.138400e-02 {
// CHECK:           ios.conv2d %arg0, %arg1, %arg2
// CHECK:           ios.conv2d %arg0, %arg3, %arg4
// CHECK:         ios.stage concurrent latency_ms = 6.024000e-03 {
// CHECK:           ios.add
// REPORT: calls {{[1-9][0-9]*}} states 4
func.func @pair(%x: !t {ios.input}, %wa: !w {ios.param = "a.w"}, %ba: !b {ios.param = "a.b"},
                %wb: !w {ios.param = "b.w"}, %bb: !b {ios.param = "b.b"}) -> !t {
  %a = ios.conv2d %x, %wa, %ba : (!t, !w, !b) -> !t
  %b = ios.conv2d %x, %wb, %bb : (!t, !w, !b) -> !t
  %s = ios.add %a, %b : !t
  return %s : !t
}
