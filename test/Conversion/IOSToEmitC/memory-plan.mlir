// RUN: ios-translate --ios-to-cpp %s | FileCheck %s

// Memory plan: a and b are written by their producers straight into the
// channels of their concat (no copy); the slice is a view of the concat;
// d reuses the arena space of the input, dead after stage 0.

!t = tensor<1x4x8x8xf32>

// CHECK: // @inplace: 3 stage(s) on 2 stream(s); arena 0.00 MiB for 0.00 MiB of tensors (3 buffers)
// CHECK: ios::rt::createContext(2, 2, 768, &ios_error);
// CHECK-LABEL: ios_inplace_run(
// The concat's 8 channels are placed first (largest), the input after them.
// CHECK:       ios::rt::upload({{v[0-9]+}}, {{v[0-9]+}}, {{v[0-9]+}}, 256);
// CHECK:       ios::rt::View [[X:v[0-9]+]] = ios::rt::view([[A:v[0-9]+]], 512, 1, 4, 8, 8);
// CHECK-NEXT:  ios::rt::View [[C:v[0-9]+]] = ios::rt::view([[A]], 0, 1, 8, 8, 8);
// CHECK-NEXT:  ios::rt::View [[CA:v[0-9]+]] = ios::rt::channels([[C]], 0, 4);
// CHECK-NEXT:  ios::rt::activation({{v[0-9]+}}, 0, "a", [[X]], [[CA]], ios::rt::ActRelu);
// CHECK-NEXT:  ios::rt::View [[CB:v[0-9]+]] = ios::rt::channels([[C]], 4, 8);
// CHECK-NEXT:  ios::rt::activation({{v[0-9]+}}, 1, "b", [[X]], [[CB]], ios::rt::ActTanh);
// CHECK:       // stage 1: concurrent, 1 group(s)
// CHECK-NEXT:  // stage 2: concurrent, 1 group(s)
// CHECK-NEXT:  ios::rt::View [[S:v[0-9]+]] = ios::rt::channels([[C]], 2, 6);
// CHECK-NEXT:  ios::rt::activation({{v[0-9]+}}, 0, "d", [[S]], [[X]], ios::rt::ActSigmoid);
// CHECK-NOT:   ios::rt::copy
func.func @inplace(%x: !t {ios.input}) -> !t {
  %s0:2 = ios.stage concurrent {
    %g0 = ios.group {
      %a = ios.activation relu %x : !t loc("a")
      ios.yield %a : !t
    } -> !t
    %g1 = ios.group {
      %b = ios.activation tanh %x : !t loc("b")
      ios.yield %b : !t
    } -> !t
    ios.yield %g0, %g1 : !t, !t
  } -> !t, !t
  %s1 = ios.stage concurrent {
    %g = ios.group {
      %c = ios.concat %s0#0, %s0#1 : (!t, !t) -> tensor<1x8x8x8xf32> loc("c")
      %s = ios.slice %c[2:6] : tensor<1x8x8x8xf32> -> !t loc("s")
      ios.yield %s : !t
    } -> !t
    ios.yield %g : !t
  } -> !t
  %s2 = ios.stage concurrent {
    %g = ios.group {
      %d = ios.activation sigmoid %s1 : !t loc("d")
      ios.yield %d : !t
    } -> !t
    ios.yield %g : !t
  } -> !t
  return %s2 : !t
}
