// Every scheduled op carries its layer name as `ios.name`, printed without
// debug info: a location's name, a name it already had, else kind_index.
// The report lists the stages with those names and their latencies.

// RUN: ios-opt %s --ios-schedule="report=%t.json" | FileCheck %s
// RUN: %python -c "import json, sys; f = json.load(open(sys.argv[1]))['functions']['names']; print('device', f['device']); [print(s['index'], s['strategy'], s['latency_ms'] > 0, json.dumps(s['groups'])) for s in f['stages']]" %t.json | FileCheck %s --check-prefix=REPORT

// CHECK-LABEL: func.func @names
// CHECK-DAG:     ios.conv2d {{.*}}ios.name = "branch.a+branch.b"
// CHECK-DAG:     ios.activation relu {{.*}}{ios.name = "activation_2"}
// CHECK-DAG:     ios.add {{.*}}{ios.name = "given"}
// CHECK-DAG:     ios.concat {{.*}}{ios.name = "cat"}

// REPORT:      device v100
// REPORT-NEXT: 0 merge True {{\[\[}}"branch.a"], ["branch.b"]]
// REPORT-NEXT: 1 concurrent True {{\[\[}}"activation_2", "given"]]
// REPORT-NEXT: 2 concurrent True {{\[\[}}"cat"]]
// REPORT-NOT:  {{.}}

!x = tensor<1x64x28x28xf32>
func.func @names(%x: !x {ios.input},
    %w1: tensor<64x64x3x3xf32> {ios.param = "a.w"}, %b1: tensor<64xf32> {ios.param = "a.b"},
    %w2: tensor<64x64x3x3xf32> {ios.param = "b.w"}, %b2: tensor<64xf32> {ios.param = "b.b"})
    -> tensor<1x128x28x28xf32> {
  %a = ios.conv2d %x, %w1, %b1 {padding = array<i64: 1, 1>} : (!x, tensor<64x64x3x3xf32>, tensor<64xf32>) -> !x loc(fused["branch.a", "file.py":3:1])
  %b = ios.conv2d %x, %w2, %b2 {padding = array<i64: 1, 1>} : (!x, tensor<64x64x3x3xf32>, tensor<64xf32>) -> !x loc("branch.b")
  %r = ios.activation relu %a : !x
  %s = ios.add %r, %b {ios.name = "given"} : !x loc("ignored")
  %c = ios.concat %s, %b : (!x, !x) -> tensor<1x128x28x28xf32> loc("cat")
  return %c : tensor<1x128x28x28xf32>
}
