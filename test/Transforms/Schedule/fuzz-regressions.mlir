// RUN: ios-opt %s --ios-schedule -split-input-file -verify-diagnostics
// Inputs ios-fuzz found crashing ios-opt (docs/Fuzzing.md), each now a
// located error (huge-part-hint.mlir has the one that was not an input
// error).

// Convolutions of no output channels verified; the merge of two of them
// (one input, centred kernels) built an ios.slice of no channels, whose type
// inference failed: LLVM ERROR "Failed to infer result type(s)" in
// ios-schedule (ios-fuzz --seed 100, cases 30631 and 44257). The verifier
// reports the first op of a block that fails.
func.func @empty_merge(%x: tensor<1x8x9x9xf32> {ios.input},
    %w1: tensor<0x8x3x3xf32> {ios.param = "a.w"}, %b1: tensor<0xf32> {ios.param = "a.b"},
    %w3: tensor<0x8x5x5xf32> {ios.param = "b.w"}, %b3: tensor<0xf32> {ios.param = "b.b"}) -> (tensor<1x0x9x9xf32>, tensor<1x0x7x7xf32>) {
  // expected-error @+1 {{'ios.conv2d' op the weight has a dimension of size 0: empty tensors are not supported}}
  %b = ios.conv2d %x, %w1, %b1 {padding = array<i64: 1, 1>} : (tensor<1x8x9x9xf32>, tensor<0x8x3x3xf32>, tensor<0xf32>) -> tensor<1x0x9x9xf32>
  %c = ios.conv2d %x, %w3, %b3 {padding = array<i64: 1, 1>} : (tensor<1x8x9x9xf32>, tensor<0x8x5x5xf32>, tensor<0xf32>) -> tensor<1x0x7x7xf32>
  return %b, %c : tensor<1x0x9x9xf32>, tensor<1x0x7x7xf32>
}

// -----

// The same through an empty input and an add (cases 33384 and 46348).
!t = tensor<1x0x8x8xf32>
!w = tensor<0x0x3x3xf32>
!b = tensor<0xf32>
func.func @empty_pair(%x: !t {ios.input}, %wa: !w {ios.param = "a.w"}, %ba: !b {ios.param = "a.b"},
                      %wb: !w {ios.param = "b.w"}, %bb: !b {ios.param = "b.b"}) -> !t {
  %a = ios.conv2d %x, %wa, %ba {padding = array<i64: 1, 1>} : (!t, !w, !b) -> !t
  %b = ios.conv2d %x, %wb, %bb {padding = array<i64: 1, 1>} : (!t, !w, !b) -> !t
  // expected-error @+1 {{'ios.add' op operand #0 has a dimension of size 0: empty tensors are not supported}}
  %s = ios.add %a, %b : !t
  return %s : !t
}

