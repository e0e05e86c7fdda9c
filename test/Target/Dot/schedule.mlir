// RUN: ios-translate --ios-to-dot %S/../../Dialect/IOS/sample-schedule.mlir | FileCheck %s
// RUN: ios-translate --ios-to-dot %S/../../Dialect/IOS/sample-schedule.mlir | dot -Tsvg | FileCheck %s --check-prefix=SVG
// RUN: ios-translate --ios-to-dot %s | FileCheck %s --check-prefix=GRAPH
// RUN: ios-translate --ios-to-dot %s | dot -Tsvg -o /dev/null

// The scheduled sample: stages are clusters, ops filled with the colour of
// their group's stream, compact labels (kind; shape in the tooltip), edges
// traced through group/stage results, top to bottom with tight ranks.
// CHECK-LABEL: digraph "sample" {
// CHECK-NEXT:    rankdir=TB;
// CHECK:         [[IN:n[0-9]+]] [shape=ellipse, label="input 0\n1x375x15x15"];
// CHECK:         subgraph cluster_s0 {
// CHECK-NEXT:      label="stage 0: concurrent, 0.161 ms";
// CHECK:           // group 0
// CHECK-NEXT:      [[C1:n[0-9]+]] [label="conv 3x3 relu", tooltip="conv 3x3 relu\n1x375x15x15", fillcolor="#8dd3c7"];
// CHECK-NEXT:      // group 1
// CHECK-NEXT:      [[C2:n[0-9]+]] [label="conv 3x3 relu", tooltip="conv 3x3 relu\n1x750x15x15", fillcolor="#ffffb3"];
// CHECK-NEXT:    }
// CHECK-NEXT:    subgraph cluster_s1 {
// CHECK-NEXT:      label="stage 1: concurrent, 0.154 ms";
// CHECK:           [[C4:n[0-9]+]] [label="conv 3x3 relu", tooltip="conv 3x3 relu\n1x750x15x15", fillcolor="#8dd3c7"];
// CHECK:           [[C3:n[0-9]+]] [label="conv 3x3 relu", tooltip="conv 3x3 relu\n1x375x15x15", fillcolor="#ffffb3"];
// CHECK:         subgraph cluster_s2 {
// CHECK-NEXT:      label="stage 2: concurrent, 0.017 ms";
// CHECK:           [[CAT:n[0-9]+]] [label="concat", tooltip="concat\n1x1875x15x15", fillcolor="#8dd3c7"];
// CHECK-NOT:     subgraph
// CHECK:         [[OUT:n[0-9]+]] [label="output", shape=ellipse];
// CHECK-DAG:     [[IN]] -> [[C1]];
// CHECK-DAG:     [[IN]] -> [[C2]];
// CHECK-DAG:     [[IN]] -> [[C3]];
// CHECK-DAG:     [[C1]] -> [[C4]];
// CHECK-DAG:     [[C2]] -> [[CAT]];
// CHECK-DAG:     [[C3]] -> [[CAT]];
// CHECK-DAG:     [[C4]] -> [[CAT]];
// CHECK-DAG:     [[CAT]] -> [[OUT]];
// CHECK:       }

// SVG: <svg
// SVG: stage 0: concurrent, 0.161 ms

// An unscheduled graph: plain nodes named by their location (or ios.name),
// parameters left out, one digraph per function.
// GRAPH-LABEL: digraph "graph" {
// GRAPH:         [[X:n[0-9]+]] [shape=ellipse, label="input 0\n1x8x9x9"];
// GRAPH-NEXT:    [[C:n[0-9]+]] [label="c1\nconv 3x3/2x2 g2 sigmoid", tooltip="c1\nconv 3x3/2x2 g2 sigmoid\n1x8x4x4"];
// GRAPH-NEXT:    [[P:n[0-9]+]] [label="max pool 3x3/2x2", tooltip="max pool 3x3/2x2\n1x8x4x4"];
// GRAPH-NEXT:    [[S:n[0-9]+]] [label="head\nslice [0:4]", tooltip="head\nslice [0:4]\n1x4x4x4"];
// GRAPH-NEXT:    [[A:n[0-9]+]] [label="add", tooltip="add\n1x8x4x4"];
// GRAPH-NOT:     param
// GRAPH-DAG:     [[X]] -> [[C]];
// GRAPH-DAG:     [[X]] -> [[P]];
// GRAPH-DAG:     [[C]] -> [[S]];
// GRAPH-DAG:     [[C]] -> [[A]];
// GRAPH-DAG:     [[P]] -> [[A]];
// GRAPH-LABEL: digraph "second" {
func.func @graph(%x: tensor<1x8x9x9xf32> {ios.input},
                 %w: tensor<8x4x3x3xf32> {ios.param = "c.weight"},
                 %b: tensor<8xf32> {ios.param = "c.bias"}) -> tensor<1x8x4x4xf32> {
  %0 = ios.conv2d %x, %w, %b {strides = array<i64: 2, 2>, groups = 2 : i64, act = #ios.act<sigmoid>}
     : (tensor<1x8x9x9xf32>, tensor<8x4x3x3xf32>, tensor<8xf32>) -> tensor<1x8x4x4xf32> loc("c1")
  %1 = ios.pool2d max %x {kernel = array<i64: 3, 3>, strides = array<i64: 2, 2>} : tensor<1x8x9x9xf32> -> tensor<1x8x4x4xf32>
  %2 = ios.slice %0[0:4] {ios.name = "head"} : tensor<1x8x4x4xf32> -> tensor<1x4x4x4xf32>
  %3 = ios.add %0, %1 : tensor<1x8x4x4xf32>
  return %3 : tensor<1x8x4x4xf32>
}

func.func @second(%x: tensor<1x8x9x9xf32>) -> tensor<1x8x9x9xf32> {
  return %x : tensor<1x8x9x9xf32>
}

// The packed weights of a merge stage are parameters: not drawn. Layer names
// survive scheduling (ios.name) without --mlir-print-debuginfo: the merged
// conv carries its members' names, the slices each member's.
// RUN: %python -m ios.zoo sample | ios-opt --ios-schedule="strategy=merge" | ios-translate --ios-to-dot | FileCheck %s --check-prefix=MERGE
// MERGE: label="stage 0: merge
// MERGE-NOT: tensor.
// MERGE: [label="conv1+conv3+conv2\nconv 3x3 relu", tooltip="conv1+conv3+conv2\nconv 3x3 relu\n1x1500x15x15"
// MERGE: [label="conv1\nslice [0:375]"
// MERGE: [label="conv4\nconv 3x3 relu"

// Inception V3 scheduled stays readable: one cluster per stage, no nested
// group clusters, and Graphviz lays it out at most 5 times taller than wide.
// RUN: %python -m ios.zoo inception_v3 | ios-opt --ios-schedule -o %t.mlir
// RUN: ios-translate --ios-to-dot %t.mlir -o %t.dot
// RUN: grep -c "= ios.stage" %t.mlir > %t.stages
// RUN: grep -c "subgraph cluster_s[0-9]* {" %t.dot | diff - %t.stages
// RUN: dot -Tsvg %t.dot | %python -c "import re, sys; w, h = map(float, re.search(r'viewBox=\"0\.00 0\.00 ([0-9.]+) ([0-9.]+)\"', sys.stdin.read()).groups()); print('aspect ok' if h <= 5 * w else f'aspect {w}x{h}')" | FileCheck %s --check-prefix=ASPECT
// ASPECT: aspect ok
