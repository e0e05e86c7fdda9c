// RUN: ios-opt %s --convert-iosrt-to-emitc=main=b | FileCheck %s
// RUN: ios-opt %s --convert-iosrt-to-emitc=emit-main=false | FileCheck %s --check-prefix=NOMAIN
// RUN: not ios-opt %s --convert-iosrt-to-emitc=main=c 2>&1 | FileCheck %s --check-prefix=UNKNOWN

// With several programs in a module, main=NAME chooses the one main() runs.

// CHECK-LABEL: emitc.func @ios_a_create(
// CHECK-LABEL: emitc.func @ios_b_create(
// CHECK:       emitc.func @main(
// CHECK-NEXT:    get_global @ios_b_shapes
// CHECK:         call_opaque "ios::rt::runMain"({{.*}}#emitc.opaque<"&ios_b_create">, #emitc.opaque<"&ios_b_run">, #emitc.opaque<"&ios_b_destroy">]
// CHECK-NOT:   @main

// NOMAIN-NOT: @main
// NOMAIN-NOT: runMain

// UNKNOWN: error: main=c: no program function of that name

func.func @a() attributes {iosrt.arena = 16 : i64, iosrt.events = 1 : i32, iosrt.streams = 1 : i32} {
  %x = iosrt.view offset 0 shape [1, 4, 2, 2] batch_stride 16
  iosrt.input 0 to %x {rank = 4 : i64}
  iosrt.output 0 from %x {rank = 4 : i64}
  return
}
func.func @b() attributes {iosrt.arena = 16 : i64, iosrt.events = 1 : i32, iosrt.streams = 1 : i32} {
  %x = iosrt.view offset 0 shape [1, 4, 2, 2] batch_stride 16
  iosrt.input 0 to %x {rank = 4 : i64}
  iosrt.output 0 from %x {rank = 4 : i64}
  return
}
