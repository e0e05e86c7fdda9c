// RUN: cd %ios_src_root && ios-translate --ios-to-timeline -split-input-file %s | FileCheck %s

// Two streams, then one. The device comes from ios.schedule; stage 1 starts
// where stage 0's simulated latency ends; ops are named by ios.name (else
// kind#index) and keep their group's stream. The model launches the longer
// group (conv#1, 750 channels) first: it starts after one cuDNN call
// (13 us), conv1 after that call, its bias kernel and its own call.
// CHECK-LABEL: "name": "two_streams",
// CHECK-NEXT:  "device": "v100",
// CHECK-NEXT:  "schedule": {
// CHECK-NEXT:    "device": "v100",
// CHECK-NEXT:    "profiler": "analytic:v100",
// CHECK-NEXT:    "strategy": "both",
// CHECK-NEXT:    "latency_ms": 0.25,
// CHECK-NEXT:    "sequential_ms": 0.5
// CHECK-NEXT:  },
// CHECK-NEXT:  "streams": 2,
// CHECK-NEXT:  "stages": [
// CHECK-NEXT:    {
// CHECK-NEXT:      "index": 0,
// CHECK-NEXT:      "strategy": "concurrent",
// CHECK-NEXT:      "estimated_ms": 0.161,
// CHECK-NEXT:      "model_ms": [[M0:0\.178[0-9]+]],
// CHECK-NEXT:      "start_ms": 0,
// CHECK-NEXT:      "end_ms": [[M0]],
// CHECK-NEXT:      "groups": [
// CHECK-NEXT:        [
// CHECK-NEXT:          {
// CHECK-NEXT:            "name": "conv1",
// CHECK-NEXT:            "kind": "conv",
// CHECK-NEXT:            "start_ms": 0.02816{{0*[0-9]?}},
// CHECK-NEXT:            "end_ms": 0.1726
// CHECK-NEXT:            "stream": 0,
// CHECK-NEXT:            "kernels": 2
// CHECK-NEXT:          }
// CHECK-NEXT:        ],
// CHECK-NEXT:        [
// CHECK-NEXT:          {
// CHECK-NEXT:            "name": "conv#1",
// CHECK-NEXT:            "kind": "conv",
// CHECK-NEXT:            "start_ms": 0.01299{{9*[0-9]?}},
// CHECK-NEXT:            "end_ms": 0.1575
// CHECK-NEXT:            "stream": 1,
// CHECK-NEXT:            "kernels": 2
// CHECK:           "index": 1,
// CHECK-NEXT:      "strategy": "concurrent",
// CHECK-NEXT:      "estimated_ms": null,
// CHECK-NEXT:      "model_ms":
// CHECK-NEXT:      "start_ms": [[M0]],
// CHECK:             "name": "cat",
// CHECK-NEXT:        "kind": "concat",
// CHECK-NEXT:        "start_ms": [[M0]],
// CHECK:             "stream": 0,
// CHECK-NEXT:        "kernels": 3
// CHECK:       "latency_ms": 0.2017

!act = tensor<1x375x15x15xf32>
!act2 = tensor<1x750x15x15xf32>
func.func @two_streams(%x: !act {ios.input},
    %w1: tensor<375x375x3x3xf32> {ios.param = "conv1.weight"}, %b1: tensor<375xf32> {ios.param = "conv1.bias"},
    %w2: tensor<750x375x3x3xf32> {ios.param = "conv2.weight"}, %b2: tensor<750xf32> {ios.param = "conv2.bias"})
    -> tensor<1x1500x15x15xf32> attributes {ios.schedule = #ios.schedule<
      device = "v100", batch = 1, profiler = "analytic:v100", strategy = both,
      enumeration = ios, max_group_size = 3, max_groups = 8,
      latency_ms = 0.25 : f64, sequential_ms = 0.5 : f64>} {
  %s0:2 = ios.stage concurrent latency_ms = 0.161 {
    %g0 = ios.group {
      %c1 = ios.conv2d %x, %w1, %b1 {padding = array<i64: 1, 1>, ios.name = "conv1"} : (!act, tensor<375x375x3x3xf32>, tensor<375xf32>) -> !act
      ios.yield %c1 : !act
    } -> !act
    %g1 = ios.group {
      %c2 = ios.conv2d %x, %w2, %b2 {padding = array<i64: 1, 1>} : (!act, tensor<750x375x3x3xf32>, tensor<750xf32>) -> !act2
      ios.yield %c2 : !act2
    } -> !act2
    ios.yield %g0, %g1 : !act, !act2
  } -> !act, !act2
  %s1 = ios.stage concurrent {
    %g = ios.group {
      %cat = ios.concat %s0#0, %s0#1, %s0#0 {ios.name = "cat"} : (!act, !act2, !act) -> tensor<1x1500x15x15xf32>
      ios.yield %cat : tensor<1x1500x15x15xf32>
    } -> tensor<1x1500x15x15xf32>
    ios.yield %g : tensor<1x1500x15x15xf32>
  } -> tensor<1x1500x15x15xf32>
  return %s1 : tensor<1x1500x15x15xf32>
}

// -----

// A device file in the attribute; a view (batch-1 channel slice) launches no
// kernel: an empty bar where the previous op of its group ended.
// CHECK-LABEL: "name": "from_file",
// CHECK-NEXT:  "device": "l4",
// CHECK:             "name": "c",
// CHECK-NEXT:        "kind": "conv",
// CHECK-NEXT:        "start_ms":
// CHECK-NEXT:        "end_ms": [[END:[0-9.e-]+]],
// CHECK:             "name": "s",
// CHECK-NEXT:        "kind": "slice",
// CHECK-NEXT:        "start_ms": [[END]],
// CHECK-NEXT:        "end_ms": [[END]],
// CHECK-NEXT:        "stream": 0,
// CHECK-NEXT:        "kernels": 0

!t = tensor<1x8x4x4xf32>
func.func @from_file(%x: !t {ios.input}, %w: tensor<8x8x1x1xf32> {ios.param = "w"},
                     %b: tensor<8xf32> {ios.param = "b"}) -> tensor<1x4x4x4xf32>
    attributes {ios.schedule = #ios.schedule<
      device = "devices/l4.json", batch = 1, profiler = "analytic:l4", strategy = both,
      enumeration = ios, max_group_size = 3, max_groups = 8,
      latency_ms = 0.1 : f64, sequential_ms = 0.1 : f64>} {
  %s = ios.stage concurrent {
    %g = ios.group {
      %c = ios.conv2d %x, %w, %b {ios.name = "c"} : (!t, tensor<8x8x1x1xf32>, tensor<8xf32>) -> !t
      %v = ios.slice %c[0:4] {ios.name = "s"} : !t -> tensor<1x4x4x4xf32>
      ios.yield %v : tensor<1x4x4x4xf32>
    } -> tensor<1x4x4x4xf32>
    ios.yield %g : tensor<1x4x4x4xf32>
  } -> tensor<1x4x4x4xf32>
  return %s : tensor<1x4x4x4xf32>
}
