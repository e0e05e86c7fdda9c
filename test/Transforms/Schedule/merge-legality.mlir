// RUN: ios-opt %s -split-input-file --ios-schedule="profiler=table:%S/Inputs/legality-table.json" | FileCheck %s
// RUN: ios-opt %s -split-input-file --ios-schedule="profiler=table:%S/Inputs/legality-table.json" | ios-opt -split-input-file -o /dev/null
// RUN: ios-opt %s -split-input-file --test-ios-signatures -o /dev/null 2>&1 | FileCheck %s --check-prefix=CLASS

// One case per merge-legality rule. Merging is what the cost table prefers
// (a merge stage costs half its convs; two groups pay a 0.2 ms join), so a
// pair is merged exactly when the search is offered the merge, and the
// rewrite then builds it (the output verifies). The search is offered a
// merge only when the convs' merge keys (-test-ios-signatures' merge
// classes) are equal: same input, stride and activation, dense and
// undilated, kernels with a common centre (kernel - 2 * padding equal).

// A 3x3 and a 2x2 stride-2 conv on 9x9, no padding: both give 4x4, but a
// 2x2 kernel cannot be centred in a 3x3 one. Never offered, so never merged,
// and the default IOS-Both search schedules it.
// CHECK-LABEL: func.func @odd_even_stride2
// CHECK-NOT:     ios.stage merge
// CHECK:         return
// CLASS:         remark: {{.*}}conv{act="relu",dilation=[1,1],groups=1,kernel=[3,3],out_channels=4,padding=[0,0],stride=[2,2]}([8,9,9])->[4,4,4]x1 merge class 0
// CLASS-NEXT:    remark: {{.*}}conv{act="relu",dilation=[1,1],groups=1,kernel=[2,2],out_channels=4,padding=[0,0],stride=[2,2]}([8,9,9])->[4,4,4]x1 merge class 1
func.func @odd_even_stride2(%x: tensor<1x8x9x9xf32> {ios.input},
    %w1: tensor<4x8x3x3xf32> {ios.param = "a.w"}, %b1: tensor<4xf32> {ios.param = "a.b"},
    %w2: tensor<4x8x2x2xf32> {ios.param = "b.w"}, %b2: tensor<4xf32> {ios.param = "b.b"}) -> tensor<1x8x4x4xf32> {
  %a = ios.conv2d %x, %w1, %b1 {strides = array<i64: 2, 2>, act = #ios.act<relu>} : (tensor<1x8x9x9xf32>, tensor<4x8x3x3xf32>, tensor<4xf32>) -> tensor<1x4x4x4xf32> loc("a")
  %b = ios.conv2d %x, %w2, %b2 {strides = array<i64: 2, 2>, act = #ios.act<relu>} : (tensor<1x8x9x9xf32>, tensor<4x8x2x2xf32>, tensor<4xf32>) -> tensor<1x4x4x4xf32> loc("b")
  %c = ios.concat %a, %b : (tensor<1x4x4x4xf32>, tensor<1x4x4x4xf32>) -> tensor<1x8x4x4xf32> loc("cat")
  return %c : tensor<1x8x4x4xf32>
}

// -----

// Even kernels with a common centre merge: 2x2 (no padding) into 4x4
// (padding 1): the 2x2 kernel is padded by one on every side.
// CHECK-LABEL: func.func @even_kernels
// CHECK:         tensor.pad %arg3 low[0, 0, 1, 1] high[0, 0, 1, 1]
// CHECK:         ios.stage merge
// CHECK:           ios.conv2d %arg0, {{.*}} {ios.name = "a+b", padding = array<i64: 1, 1>} : {{.*}}tensor<8x8x4x4xf32>
// CLASS:         remark: {{.*}}conv{{.*}}kernel=[4,4]{{.*}} merge class 0
// CLASS-NEXT:    remark: {{.*}}conv{{.*}}kernel=[2,2]{{.*}} merge class 0
func.func @even_kernels(%x: tensor<1x8x9x9xf32> {ios.input},
    %w1: tensor<4x8x4x4xf32> {ios.param = "a.w"}, %b1: tensor<4xf32> {ios.param = "a.b"},
    %w2: tensor<4x8x2x2xf32> {ios.param = "b.w"}, %b2: tensor<4xf32> {ios.param = "b.b"}) -> tensor<1x8x8x8xf32> {
  %a = ios.conv2d %x, %w1, %b1 {padding = array<i64: 1, 1>} : (tensor<1x8x9x9xf32>, tensor<4x8x4x4xf32>, tensor<4xf32>) -> tensor<1x4x8x8xf32> loc("a")
  %b = ios.conv2d %x, %w2, %b2 : (tensor<1x8x9x9xf32>, tensor<4x8x2x2xf32>, tensor<4xf32>) -> tensor<1x4x8x8xf32> loc("b")
  %c = ios.concat %a, %b : (tensor<1x4x8x8xf32>, tensor<1x4x8x8xf32>) -> tensor<1x8x8x8xf32> loc("cat")
  return %c : tensor<1x8x8x8xf32>
}

// -----

// Odd kernels, strides 2: 1x1 and 3x3 (padding 1) share a centre and merge.
// CHECK-LABEL: func.func @odd_kernels_stride2
// CHECK:         ios.stage merge
// CHECK:           ios.conv2d %arg0, {{.*}} {ios.name = "a+b", padding = array<i64: 1, 1>, strides = array<i64: 2, 2>} : {{.*}}tensor<8x8x3x3xf32>
// CLASS:         remark: {{.*}}conv{{.*}}kernel=[1,1]{{.*}} merge class 0
// CLASS-NEXT:    remark: {{.*}}conv{{.*}}kernel=[3,3]{{.*}} merge class 0
func.func @odd_kernels_stride2(%x: tensor<1x8x9x9xf32> {ios.input},
    %w1: tensor<4x8x1x1xf32> {ios.param = "a.w"}, %b1: tensor<4xf32> {ios.param = "a.b"},
    %w2: tensor<4x8x3x3xf32> {ios.param = "b.w"}, %b2: tensor<4xf32> {ios.param = "b.b"}) -> tensor<1x8x5x5xf32> {
  %a = ios.conv2d %x, %w1, %b1 {strides = array<i64: 2, 2>} : (tensor<1x8x9x9xf32>, tensor<4x8x1x1xf32>, tensor<4xf32>) -> tensor<1x4x5x5xf32> loc("a")
  %b = ios.conv2d %x, %w2, %b2 {strides = array<i64: 2, 2>, padding = array<i64: 1, 1>} : (tensor<1x8x9x9xf32>, tensor<4x8x3x3xf32>, tensor<4xf32>) -> tensor<1x4x5x5xf32> loc("b")
  %c = ios.concat %a, %b : (tensor<1x4x5x5xf32>, tensor<1x4x5x5xf32>) -> tensor<1x8x5x5xf32> loc("cat")
  return %c : tensor<1x8x5x5xf32>
}

// -----

// Different strides never merge.
// CHECK-LABEL: func.func @strides
// CHECK-NOT:     ios.stage merge
// CHECK:         return
// CLASS:         remark: {{.*}}conv{{.*}}stride=[1,1]{{.*}} merge class 0
// CLASS-NEXT:    remark: {{.*}}conv{{.*}}stride=[2,2]{{.*}} merge class 1
func.func @strides(%x: tensor<1x8x9x9xf32> {ios.input},
    %w1: tensor<4x8x1x1xf32> {ios.param = "a.w"}, %b1: tensor<4xf32> {ios.param = "a.b"},
    %w2: tensor<4x8x1x1xf32> {ios.param = "b.w"}, %b2: tensor<4xf32> {ios.param = "b.b"}) -> (tensor<1x4x9x9xf32>, tensor<1x4x5x5xf32>) {
  %a = ios.conv2d %x, %w1, %b1 : (tensor<1x8x9x9xf32>, tensor<4x8x1x1xf32>, tensor<4xf32>) -> tensor<1x4x9x9xf32> loc("a")
  %b = ios.conv2d %x, %w2, %b2 {strides = array<i64: 2, 2>} : (tensor<1x8x9x9xf32>, tensor<4x8x1x1xf32>, tensor<4xf32>) -> tensor<1x4x5x5xf32> loc("b")
  return %a, %b : tensor<1x4x9x9xf32>, tensor<1x4x5x5xf32>
}

// -----

// Paddings decide the centre: a 3x3 conv with padding 0 and one with
// padding 1 never merge; the first merges with a 5x5 conv with padding 1
// (both cover the input two pixels in from each edge).
// CHECK-LABEL: func.func @paddings
// CHECK:         tensor.pad %arg1 low[0, 0, 1, 1] high[0, 0, 1, 1]
// CHECK:         ios.stage merge
// CHECK:           ios.conv2d %arg0, {{.*}} {ios.name = "a+cat", padding = array<i64: 1, 1>} : {{.*}}tensor<8x8x5x5xf32>{{.*}} -> tensor<1x8x7x7xf32>
// CHECK-NOT:     ios.stage merge
// CHECK:         return
// CLASS:         remark: {{.*}}conv{{.*}}kernel=[3,3],out_channels=4,padding=[0,0]{{.*}} merge class 0
// CLASS-NEXT:    remark: {{.*}}conv{{.*}}kernel=[3,3],out_channels=4,padding=[1,1]{{.*}} merge class 1
// CLASS-NEXT:    remark: {{.*}}conv{{.*}}kernel=[5,5],out_channels=4,padding=[1,1]{{.*}} merge class 0
func.func @paddings(%x: tensor<1x8x9x9xf32> {ios.input},
    %w1: tensor<4x8x3x3xf32> {ios.param = "a.w"}, %b1: tensor<4xf32> {ios.param = "a.b"},
    %w3: tensor<4x8x5x5xf32> {ios.param = "b.w"}, %b3: tensor<4xf32> {ios.param = "b.b"}) -> (tensor<1x4x7x7xf32>, tensor<1x4x9x9xf32>, tensor<1x4x7x7xf32>) {
  %a = ios.conv2d %x, %w1, %b1 : (tensor<1x8x9x9xf32>, tensor<4x8x3x3xf32>, tensor<4xf32>) -> tensor<1x4x7x7xf32> loc("a")
  %b = ios.conv2d %x, %w1, %b1 {padding = array<i64: 1, 1>} : (tensor<1x8x9x9xf32>, tensor<4x8x3x3xf32>, tensor<4xf32>) -> tensor<1x4x9x9xf32> loc("b")
  %c = ios.conv2d %x, %w3, %b3 {padding = array<i64: 1, 1>} : (tensor<1x8x9x9xf32>, tensor<4x8x5x5xf32>, tensor<4xf32>) -> tensor<1x4x7x7xf32> loc("cat")
  return %a, %b, %c : tensor<1x4x7x7xf32>, tensor<1x4x9x9xf32>, tensor<1x4x7x7xf32>
}

// -----

// Dilated and grouped convs have no merge key (the merged conv is dense and
// undilated); different activations or inputs give different keys.
// CHECK-LABEL: func.func @never
// CHECK-NOT:     ios.stage merge
// CHECK:         return
// CLASS:         remark: {{.*}}conv{{.*}}dilation=[2,2]{{.*}}x1 flops
// CLASS-NEXT:    remark: {{.*}}conv{{.*}}groups=2{{.*}}x1 flops
// CLASS-NEXT:    remark: {{.*}}conv{{.*}}act="relu"{{.*}} merge class 0
// CLASS-NEXT:    remark: {{.*}}conv{{.*}}act="sigmoid"{{.*}} merge class 1
// CLASS-NEXT:    remark: {{.*}}conv{{.*}}act="relu"{{.*}} merge class 2
func.func @never(%x: tensor<1x8x9x9xf32> {ios.input}, %y: tensor<1x8x9x9xf32> {ios.input},
    %w: tensor<4x8x3x3xf32> {ios.param = "a.w"}, %b: tensor<4xf32> {ios.param = "a.b"},
    %wg: tensor<4x4x3x3xf32> {ios.param = "b.w"}) -> (tensor<1x4x5x5xf32>, tensor<1x4x7x7xf32>, tensor<1x4x7x7xf32>, tensor<1x4x7x7xf32>, tensor<1x4x7x7xf32>) {
  %d = ios.conv2d %x, %w, %b {dilations = array<i64: 2, 2>} : (tensor<1x8x9x9xf32>, tensor<4x8x3x3xf32>, tensor<4xf32>) -> tensor<1x4x5x5xf32> loc("a")
  %g = ios.conv2d %x, %wg, %b {groups = 2 : i64} : (tensor<1x8x9x9xf32>, tensor<4x4x3x3xf32>, tensor<4xf32>) -> tensor<1x4x7x7xf32> loc("b")
  %r = ios.conv2d %x, %w, %b {act = #ios.act<relu>} : (tensor<1x8x9x9xf32>, tensor<4x8x3x3xf32>, tensor<4xf32>) -> tensor<1x4x7x7xf32> loc("a")
  %s = ios.conv2d %x, %w, %b {act = #ios.act<sigmoid>} : (tensor<1x8x9x9xf32>, tensor<4x8x3x3xf32>, tensor<4xf32>) -> tensor<1x4x7x7xf32> loc("b")
  %o = ios.conv2d %y, %w, %b {act = #ios.act<relu>} : (tensor<1x8x9x9xf32>, tensor<4x8x3x3xf32>, tensor<4xf32>) -> tensor<1x4x7x7xf32> loc("cat")
  return %d, %g, %r, %s, %o : tensor<1x4x5x5xf32>, tensor<1x4x7x7xf32>, tensor<1x4x7x7xf32>, tensor<1x4x7x7xf32>, tensor<1x4x7x7xf32>
}
