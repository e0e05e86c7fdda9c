// Strings from the IR never write code: layer and function names become escaped C string
// literals, the device and profiler strings of the schedule attribute reach
// only a comment, stripped of line breaks and backslashes.
// RUN: ios-translate --ios-to-cpp %s -o %t.cpp
// RUN: FileCheck %s --input-file=%t.cpp
// RUN: c++ -std=c++17 -fsyntax-only -Werror -I%ios_include %t.cpp
// Outside comments and string literals, nothing of the strings remains.
// RUN: sed -e 's#//.*$##' -e 's#"\([^"\\]\|\\.\)*"##g' %t.cpp > %t.code
// RUN: grep -c ios_program0_create %t.code
// RUN: not grep injected %t.code

// CHECK: // scheduled for v100?int injected = 1;?// , batch 1, by evil?? (both)
// CHECK: static void* ios_program0_prepare(
// CHECK: ios::rt::prepareActivation({{.*}}"a\012b\"c\\d\001e\342\202\254"
// CHECK: extern "C" void* ios_program0_create(

!t = tensor<1x4x8x8xf32>
func.func @"net(){} int injected_global = 42; void f"(%x: !t {ios.input}) -> !t attributes {ios.schedule = #ios.schedule<device = "v100\0Aint injected = 1;\0A// ", batch = 1, profiler = "evil\\\0A", strategy = both, enumeration = ios, max_group_size = 3, max_groups = 8, latency_ms = 1.0 : f64, sequential_ms = 1.0 : f64>} {
  %s = ios.stage concurrent {
    %g = ios.group {
      %0 = ios.activation relu %x : !t loc("a\0Ab\"c\\d\01e\E2\82\AC")
      ios.yield %0 : !t
    } -> !t
    ios.yield %g : !t
  } -> !t
  return %s : !t
}
