// RUN: ios-translate --ios-to-cpp-header %s | FileCheck %s
// The header is C and C++: both compile it (and a second include is harmless).
// RUN: ios-translate --ios-to-cpp-header %s -o %t.h
// RUN: cc -std=c99 -Wall -Werror -fsyntax-only -include %t.h -x c /dev/null
// RUN: c++ -std=c++17 -Wall -Werror -fsyntax-only -include %t.h -include %t.h -x c++ /dev/null
// RUN: ios-opt %s --ios-lower-to-cpp=emit-main=false | not ios-translate --ios-to-cpp-header 2>&1 | FileCheck %s --check-prefix=LOWERED

// LOWERED: error: the header is generated from scheduled ios or iosrt input, not from a lowered program

// The entry points of every program, the shapes they expect and the
// number of buffers run() takes.

// CHECK:      #pragma once
// CHECK-NEXT: #include <stddef.h>
// CHECK-NEXT: #include <stdint.h>
// CHECK-NEXT: #ifdef __cplusplus
// CHECK-NEXT: extern "C" {
// CHECK-NEXT: #endif
// CHECK:      // input 0: 2x8x4x4
// CHECK-NEXT: // output 0: 2x8x4x4
// CHECK-NEXT: // output 1: 2x8
// CHECK-NEXT: #define IOS_NET_NUM_INPUTS 1
// CHECK-NEXT: #define IOS_NET_NUM_OUTPUTS 2
// CHECK-NEXT: #define IOS_NET_INPUT0_ELEMENTS 256
// CHECK-NEXT: #define IOS_NET_OUTPUT0_ELEMENTS 256
// CHECK-NEXT: #define IOS_NET_OUTPUT1_ELEMENTS 16
// CHECK-NEXT: void* ios_net_create(const char*);
// CHECK-NEXT: void* ios_net_create_from_memory(const void*, size_t);
// CHECK-NEXT: int32_t ios_net_run(void*, const float *const*, float *const*);
// CHECK-NEXT: void ios_net_destroy(void*);
// CHECK-NEXT: const char* ios_net_error(void*);
// CHECK:      #define IOS_PROGRAM0_NUM_INPUTS 1
// CHECK:      void* ios_program0_create(const char*);
// CHECK:      #ifdef __cplusplus
// CHECK-NEXT: }
// CHECK-NEXT: #endif
// CHECK-NOT:  main

!x = tensor<2x8x4x4xf32>
func.func @net(%x: !x {ios.input}) -> (!x, tensor<2x8xf32>) attributes {ios.schedule = #ios.schedule<device = "v100", batch = 2, profiler = "analytic:v100", strategy = sequential, enumeration = ios, max_group_size = 3, max_groups = 8, latency_ms = 1.0 : f64, sequential_ms = 1.0 : f64>} {
  %r:2 = ios.stage concurrent {
    %g:2 = ios.group {
      %a = ios.activation relu %x : !x
      %p = ios.pool2d global_avg %a : !x -> tensor<2x8x1x1xf32>
      %f = ios.flatten %p : tensor<2x8x1x1xf32> -> tensor<2x8xf32>
      ios.yield %a, %f : !x, tensor<2x8xf32>
    } -> !x, tensor<2x8xf32>
    ios.yield %g#0, %g#1 : !x, tensor<2x8xf32>
  } -> !x, tensor<2x8xf32>
  return %r#0, %r#1 : !x, tensor<2x8xf32>
}
func.func @"not an identifier"(%x: !x {ios.input}) -> !x attributes {ios.schedule = #ios.schedule<device = "v100", batch = 2, profiler = "analytic:v100", strategy = sequential, enumeration = ios, max_group_size = 3, max_groups = 8, latency_ms = 1.0 : f64, sequential_ms = 1.0 : f64>} {
  %r = ios.stage concurrent {
    %g = ios.group {
      %a = ios.activation sigmoid %x : !x
      ios.yield %a : !x
    } -> !x
    ios.yield %g : !x
  } -> !x
  return %r : !x
}
