// RUN: ios-opt %s --convert-ios-to-emitc | FileCheck %s
// RUN: ios-translate --ios-to-cpp %s | FileCheck %s --check-prefix=CPP
// RUN: ios-translate --ios-to-cuda %s | FileCheck %s --check-prefix=CUDA

// Two concurrent stages of two groups, then a single-group stage: each
// multi-group stage forks from stream 0 (event 0) and joins back into it
// (event s recorded on stream s, waited for by stream 0); nothing else
// synchronises. Group i runs on stream i.

!t = tensor<1x8x8x8xf32>
!w = tensor<8x8x3x3xf32>
!b = tensor<8xf32>

// CHECK-LABEL: emitc.func @ios_two_create(
// CHECK-SAME:    specifiers = ["extern \22C\22"]
// CHECK:         call_opaque "ios::rt::createContext"() {args = [2 : i32, 2 : i32, {{[0-9]+}}, #emitc.opaque<"&ios_error">]}
// CHECK:         call_opaque "ios::rt::loadWeights"
// Convolutions are planned at load (cuDNN algorithm, workspace), per stream.
// CHECK:         call_opaque "ios::rt::prepareConv2d"({{.*}}) {args = [0 : index, 0 : i32, #emitc.opaque<"\22a\22">, 1 : index, 2 : index, 3, 3, 1, 1, 1, 1, 1, 1, 1, #emitc.opaque<"ios::rt::ActRelu">, true]}
// CHECK:         call_opaque "ios::rt::prepareConv2d"({{.*}}) {args = [0 : index, 1 : i32, #emitc.opaque<"\22b\22">
// CHECK-LABEL: emitc.func @ios_two_run(
// CHECK:         call_opaque "ios::rt::upload"
// CHECK:         verbatim "// stage 0: concurrent, 2 group(s), estimated 0.1000 ms"
// CHECK-NEXT:    call_opaque "ios::rt::record"({{.*}}) {args = [0 : index, 0 : i32, 0 : i32]}
// CHECK-NEXT:    call_opaque "ios::rt::wait"({{.*}}) {args = [0 : index, 1 : i32, 0 : i32]}
// CHECK:         call_opaque "ios::rt::conv2d"({{.*}}) {args = [0 : index, 0 : i32, #emitc.opaque<"\22a\22">
// CHECK:         call_opaque "ios::rt::conv2d"({{.*}}) {args = [0 : index, 1 : i32, #emitc.opaque<"\22b\22">
// CHECK-NEXT:    call_opaque "ios::rt::record"({{.*}}) {args = [0 : index, 1 : i32, 1 : i32]}
// CHECK-NEXT:    call_opaque "ios::rt::wait"({{.*}}) {args = [0 : index, 0 : i32, 1 : i32]}
// CHECK-NEXT:    verbatim "// stage 1: concurrent, 2 group(s), estimated 0.1000 ms"
// CHECK-NEXT:    call_opaque "ios::rt::record"({{.*}}) {args = [0 : index, 0 : i32, 0 : i32]}
// CHECK-NEXT:    call_opaque "ios::rt::wait"({{.*}}) {args = [0 : index, 1 : i32, 0 : i32]}
// CHECK:         call_opaque "ios::rt::activation"({{.*}}) {args = [0 : index, 0 : i32, #emitc.opaque<"\22c\22">, 1 : index, 2 : index, #emitc.opaque<"ios::rt::ActRelu">]}
// CHECK:         call_opaque "ios::rt::activation"({{.*}}) {args = [0 : index, 1 : i32, #emitc.opaque<"\22d\22">, 1 : index, 2 : index, #emitc.opaque<"ios::rt::ActTanh">]}
// CHECK-NEXT:    call_opaque "ios::rt::record"({{.*}}) {args = [0 : index, 1 : i32, 1 : i32]}
// CHECK-NEXT:    call_opaque "ios::rt::wait"({{.*}}) {args = [0 : index, 0 : i32, 1 : i32]}
// CHECK-NEXT:    verbatim "// stage 2: concurrent, 1 group(s)"
// CHECK-NOT:     ios::rt::record
// CHECK-NOT:     ios::rt::wait
// CHECK:         call_opaque "ios::rt::addN"({{.*}}) {args = [0 : index, 0 : i32, #emitc.opaque<"\22e\22">, 1 : index, 2 : index, 3 : index]}
// CHECK:         call_opaque "ios::rt::download"
// CHECK:         call_opaque "ios::rt::synchronize"
// CHECK-LABEL: emitc.func @ios_two_destroy(
// CHECK:         call_opaque "ios::rt::destroyContext"
// CHECK:       emitc.verbatim "#ifdef IOS_MAIN"
// CHECK-NOT:   func.func
// CHECK-NOT:   ios.

// CPP:      #include "ios/Runtime/Runtime.h"
// CPP:      extern "C" void* ios_two_create(const char* [[PATH:v[0-9]+]]) {
// CPP:      extern "C" int32_t ios_two_run(void* {{v[0-9]+}}, const float* {{v[0-9]+}}, float* {{v[0-9]+}}) {
// CPP:        // stage 0: concurrent, 2 group(s), estimated 0.1000 ms
// CPP-NEXT:   ios::rt::record([[CTX:v[0-9]+]], 0, 0);
// CPP-NEXT:   ios::rt::wait([[CTX]], 1, 0);
// CPP:        ios::rt::conv2d([[CTX]], 0, "a", {{.*}}, 3, 3, 1, 1, 1, 1, 1, 1, 1, ios::rt::ActRelu);
// CPP:        ios::rt::conv2d([[CTX]], 1, "b", {{.*}}, 3, 3, 1, 1, 1, 1, 1, 1, 1, ios::rt::ActNone);
// CPP-NEXT:   ios::rt::record([[CTX]], 1, 1);
// CPP-NEXT:   ios::rt::wait([[CTX]], 0, 1);
// CPP:      extern "C" void ios_two_destroy(void* {{v[0-9]+}}) {
// CPP:      #ifdef IOS_MAIN
// CPP-NEXT: int main(int argc, char **argv) { return ios::rt::runMain(argc, argv, "two", &ios_two_create, &ios_two_run, &ios_two_destroy, 512, 512); }
// CPP-NEXT: #endif

// CUDA:      // CUDA program: nvcc
// CUDA-NEXT: #include <cuda_runtime.h>
// CUDA:      ios::rt::record(
// CUDA-NOT:  cudaDeviceSynchronize

func.func @two(%x: !t {ios.input}, %wa: !w {ios.param = "a.w"}, %ba: !b {ios.param = "a.b"},
               %wb: !w {ios.param = "b.w"}, %bb: !b {ios.param = "b.b"}) -> !t {
  %s0:2 = ios.stage concurrent latency_ms = 0.1 {
    %g0 = ios.group {
      %a = ios.conv2d %x, %wa, %ba {padding = array<i64: 1, 1>, act = #ios.act<relu>} : (!t, !w, !b) -> !t loc("a")
      ios.yield %a : !t
    } -> !t
    %g1 = ios.group {
      %b = ios.conv2d %x, %wb, %bb {padding = array<i64: 1, 1>} : (!t, !w, !b) -> !t loc("b")
      ios.yield %b : !t
    } -> !t
    ios.yield %g0, %g1 : !t, !t
  } -> !t, !t
  %s1:2 = ios.stage concurrent latency_ms = 0.1 {
    %g0 = ios.group {
      %c = ios.activation relu %s0#0 : !t loc("c")
      ios.yield %c : !t
    } -> !t
    %g1 = ios.group {
      %d = ios.activation tanh %s0#1 : !t loc("d")
      ios.yield %d : !t
    } -> !t
    ios.yield %g0, %g1 : !t, !t
  } -> !t, !t
  %s2 = ios.stage concurrent {
    %g = ios.group {
      %e = ios.add %s1#0, %s1#1 : !t loc("e")
      ios.yield %e : !t
    } -> !t
    ios.yield %g : !t
  } -> !t
  return %s2 : !t
}
