// RUN: ios-opt %s --convert-ios-to-iosrt | FileCheck %s
// RUN: ios-translate --ios-to-cpp %s | FileCheck %s --check-prefix=CPP
// RUN: ios-translate --ios-to-cuda %s | FileCheck %s --check-prefix=CUDA

// Two concurrent stages of two groups, then a single-group stage: each
// multi-group stage forks from stream 0 (event 0) and joins back into it
// (event s recorded on stream s, waited for by stream 0); nothing else
// synchronises. Group i runs on stream i.

// CHECK-LABEL: func.func @two()
// CHECK-SAME:    iosrt.arena = {{[0-9]+}} : i64, iosrt.events = 2 : i32, iosrt.streams = 2 : i32
// CHECK:         iosrt.input 0 to %{{.*}} {rank = 4 : i64}
// CHECK:         iosrt.stage 0 {groups = 2 : i64, latency_ms = 1.000000e-01 : f64, strategy = #ios.strategy<concurrent>}
// CHECK-NEXT:    iosrt.record event 0 on stream 0
// CHECK-NEXT:    iosrt.wait stream 1 for event 0
// CHECK:         iosrt.conv2d "a" on stream 0 : {{.*}} {act = #ios.act<relu>, bias = "a.b", {{.*}}weight = "a.w"}
// CHECK:         iosrt.conv2d "b" on stream 1 : {{.*}} {act = #ios.act<none>, bias = "b.b", {{.*}}weight = "b.w"}
// CHECK-NEXT:    iosrt.record event 1 on stream 1
// CHECK-NEXT:    iosrt.wait stream 0 for event 1
// CHECK-NEXT:    iosrt.stage 1
// CHECK-NEXT:    iosrt.record event 0 on stream 0
// CHECK-NEXT:    iosrt.wait stream 1 for event 0
// CHECK:         iosrt.activation "c" on stream 0 : {{.*}} {kind = #ios.act<relu>}
// CHECK:         iosrt.activation "d" on stream 1 : {{.*}} {kind = #ios.act<tanh>}
// CHECK-NEXT:    iosrt.record event 1 on stream 1
// CHECK-NEXT:    iosrt.wait stream 0 for event 1
// CHECK-NEXT:    iosrt.stage 2 {groups = 1 : i64, strategy = #ios.strategy<concurrent>}
// CHECK-NOT:     iosrt.record
// CHECK-NOT:     iosrt.wait
// CHECK:         iosrt.add "e" on stream 0 : {{.*}}, {{.*}} -> {{.*}}
// CHECK-NEXT:    %[[OUT:.*]] = iosrt.view
// CHECK-NEXT:    iosrt.output 0 from %[[OUT]] {rank = 4 : i64}
// CHECK-NEXT:    return

// CPP:      #include "ios/Runtime/Runtime.h"
// Convolutions are planned at load (cuDNN algorithm, workspace), per stream.
// CPP:      static void* ios_two_prepare(ios::rt::Context* [[C:v[0-9]+]]) {
// CPP:        ios::rt::prepareConv2d([[C]], 0, "a", {{.*}}, "a.w", "a.b", 3, 3, 1, 1, 1, 1, 1, 1, 1, ios::rt::ActRelu);
// CPP:        ios::rt::prepareConv2d([[C]], 1, "b", {{.*}}, "b.w", "b.b", 3, 3, 1, 1, 1, 1, 1, 1, 1, ios::rt::ActNone);
// CPP:        ios::rt::prepareAddN([[C]], 0, "e", {{.*}});
// CPP:        void* [[H:v[0-9]+]] = ios::rt::finishCreate([[C]]);
// CPP-NEXT:   return [[H]];
// CPP:      extern "C" void* ios_two_create(const char* [[PATH:v[0-9]+]]) {
// CPP-NEXT:   ios::rt::Context* [[C:v[0-9]+]] = ios::rt::createContext(2, 2, {{[0-9]+}});
// CPP-NEXT:   ios::rt::loadWeights([[C]], [[PATH]]);
// CPP-NEXT:   void* [[H:v[0-9]+]] = ios_two_prepare([[C]]);
// CPP-NEXT:   return [[H]];
// CPP:      extern "C" void* ios_two_create_from_memory(const void* [[DATA:v[0-9]+]], size_t [[SIZE:v[0-9]+]]) {
// CPP-NEXT:   ios::rt::Context* [[C:v[0-9]+]] = ios::rt::createContext(2, 2, {{[0-9]+}});
// CPP-NEXT:   ios::rt::loadWeightsFromMemory([[C]], [[DATA]], [[SIZE]]);
// CPP-NEXT:   void* [[H:v[0-9]+]] = ios_two_prepare([[C]]);
// CPP:      extern "C" int32_t ios_two_run(void* {{v[0-9]+}}, const float *const* [[IN:v[0-9]+]], float *const* [[OUT:v[0-9]+]]) {
// CPP-NEXT:   ios::rt::Context* [[CTX:v[0-9]+]] = (ios::rt::Context*)
// CPP-NEXT:   ios::rt::upload([[CTX]], [[IN]]);
// CPP-NEXT:   // stage 0: concurrent, 2 group(s), estimated 0.1000 ms
// CPP-NEXT:   ios::rt::stage([[CTX]], 0);
// CPP-NEXT:   ios::rt::record([[CTX]], 0, 0);
// CPP-NEXT:   ios::rt::wait([[CTX]], 1, 0);
// CPP-NEXT:   ios::rt::launch([[CTX]], 0);
// CPP-NEXT:   ios::rt::launch([[CTX]], 1);
// CPP-NEXT:   ios::rt::record([[CTX]], 1, 1);
// CPP-NEXT:   ios::rt::wait([[CTX]], 0, 1);
// CPP:        ios::rt::launch([[CTX]], 4);
// CPP-NEXT:   int32_t [[R:v[0-9]+]] = ios::rt::finishRun([[CTX]], [[OUT]]);
// CPP-NEXT:   return [[R]];
// CPP:      extern "C" void ios_two_destroy(void* {{v[0-9]+}}) {
// CPP:      extern "C" const char* ios_two_error(void* {{v[0-9]+}}) {
// CPP:      static const int64_t ios_two_shapes[8] = {1, 8, 8, 8, 1, 8, 8, 8};
// CPP:      static const int32_t ios_two_ranks[2] = {4, 4};
// CPP:      #ifdef IOS_MAIN
// CPP-NEXT: int32_t main(int32_t [[ARGC:v[0-9]+]], char** [[ARGV:v[0-9]+]]) {
// CPP-NEXT:   int32_t {{v[0-9]+}} = ios::rt::runMain([[ARGC]], [[ARGV]], "two", 1, 1, ios_two_shapes, ios_two_ranks, &ios_two_create, &ios_two_run, &ios_two_destroy);
// CPP:      #endif

// CUDA:      // CUDA program: nvcc
// CUDA-NEXT: #include <cuda_runtime.h>
// CUDA:      ios::rt::record(
// CUDA-NOT:  cudaDeviceSynchronize

!t = tensor<1x8x8x8xf32>
!w = tensor<8x8x3x3xf32>
!b = tensor<8xf32>




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
