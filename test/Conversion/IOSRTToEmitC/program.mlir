// RUN: ios-opt %s -split-input-file --convert-iosrt-to-emitc | FileCheck %s
// RUN: ios-opt %s -split-input-file --ios-lower-to-cpp | FileCheck %s
// RUN: ios-opt %s -split-input-file --convert-iosrt-to-emitc | ios-translate --ios-to-cpp -split-input-file | FileCheck %s --check-prefix=CPP

// Every iosrt op is one runtime call: views, bindings and constants at
// load, kernels prepared at load and launched by number, records and stage
// markers at each inference.

// CHECK-LABEL: emitc.global static const @ios_net_prepare_constant0 : !emitc.array<4xf32> = dense<[1.000000e+00, 2.000000e+00, 3.000000e+00, 4.000000e+00]>
// CHECK-LABEL: emitc.func @ios_net_prepare(
// CHECK-SAME:      %[[C:.*]]: !emitc.ptr<!emitc.opaque<"ios::rt::Context">>) -> !emitc.ptr<!emitc.opaque<"void">> attributes {specifiers = ["static"]}
// CHECK:         call_opaque "ios::rt::view"(%[[C]]) {args = [0 : index, 0, 1, 4, 2, 2, 16]} : {{.*}} -> !emitc.opaque<"ios::rt::View">
// CHECK:         %[[G:.*]] = get_global @ios_net_prepare_constant0 : !emitc.array<4xf32>
// CHECK-NEXT:    call_opaque "ios::rt::addWeight"(%[[C]], %[[G]]) {args = [0 : index, #emitc.opaque<"\22net.const0\22">, 1 : index, 4]}
// CHECK:         call_opaque "ios::rt::prepareAffine"
// CHECK:         call_opaque "ios::rt::prepareActivation"(%[[C]], {{.*}}) {args = [0 : index, 0 : i32, #emitc.opaque<"\22r\22">, 1 : index, 2 : index, #emitc.opaque<"ios::rt::ActHardSwish">]}
// CHECK:         call_opaque "ios::rt::finishCreate"(%[[C]])
// The weights come from a file or from memory; the rest is shared.
// CHECK-LABEL: emitc.func @ios_net_create(
// CHECK-SAME:      attributes {specifiers = ["extern \22C\22"]}
// CHECK:         %[[C:.*]] = call_opaque "ios::rt::createContext"() {args = [1 : i32, 1 : i32, 96]}
// CHECK-NEXT:    call_opaque "ios::rt::loadWeights"(%[[C]], %arg0)
// CHECK-NEXT:    %[[H:.*]] = call @ios_net_prepare(%[[C]])
// CHECK-NEXT:    return %[[H]]
// CHECK-LABEL: emitc.func @ios_net_create_from_memory(
// CHECK:         %[[C:.*]] = call_opaque "ios::rt::createContext"() {args = [1 : i32, 1 : i32, 96]}
// CHECK-NEXT:    call_opaque "ios::rt::loadWeightsFromMemory"(%[[C]], %arg0, %arg1)
// CHECK-NEXT:    %[[H:.*]] = call @ios_net_prepare(%[[C]])
// CHECK-LABEL: emitc.func @ios_net_run(
// CHECK:         call_opaque "ios::rt::upload"
// CHECK-NEXT:    verbatim "// stage 0: concurrent, 1 group(s)"
// CHECK-NEXT:    call_opaque "ios::rt::stage"({{.*}}) {args = [0 : index, 0 : i32]}
// CHECK-NEXT:    call_opaque "ios::rt::launch"({{.*}}) {args = [0 : index, 0 : i32]}
// CHECK-NEXT:    call_opaque "ios::rt::launch"({{.*}}) {args = [0 : index, 1 : i32]}
// CHECK-NEXT:    call_opaque "ios::rt::finishRun"
// CHECK-NOT:   {{^ *}}iosrt.

// CPP: static const float ios_net_prepare_constant0[4] = {1.000000000e+00f, 2.000000000e+00f, 3.000000000e+00f, 4.000000000e+00f};
// CPP: ios::rt::addWeight({{v[0-9]+}}, "net.const0", ios_net_prepare_constant0, 4);

func.func @net() attributes {iosrt.arena = 96 : i64, iosrt.events = 1 : i32, iosrt.streams = 1 : i32} {
  %x = iosrt.view offset 0 shape [1, 4, 2, 2] batch_stride 16
  iosrt.input 0 to %x {rank = 4 : i64}
  iosrt.constant "net.const0" = dense<[1.0, 2.0, 3.0, 4.0]> : tensor<4xf32>
  iosrt.stage 0 {groups = 1 : i64, strategy = #ios.strategy<concurrent>}
  %y = iosrt.view offset 16 shape [1, 4, 2, 2] batch_stride 16
  iosrt.affine "a" on stream 0 : %x -> %y {scale = "net.const0", shift = "net.const0"}
  %z = iosrt.view offset 32 shape [1, 4, 2, 2] batch_stride 16
  iosrt.activation "r" on stream 0 : %y -> %z {kind = #ios.act<hardswish>}
  iosrt.output 0 from %z {rank = 4 : i64}
  return
}

// -----

// A symbol name that is not a C identifier reaches the C++ only inside an
// escaped string: the entry points get a generated prefix.

// CHECK-LABEL: emitc.func @ios_program0_create(
// CHECK:       call_opaque "ios::rt::runMain"({{.*}}) {args = [0 : index, 1 : index, #emitc.opaque<"\22f(){} int injected = 1; void g\22">

// CPP: extern "C" void* ios_program0_create(
// CPP: ios::rt::runMain({{.*}}, "f(){} int injected = 1; void g", 1, 1,
func.func @"f(){} int injected = 1; void g"() attributes {iosrt.arena = 16 : i64, iosrt.events = 1 : i32, iosrt.streams = 1 : i32} {
  %x = iosrt.view offset 0 shape [1, 4, 2, 2] batch_stride 16
  iosrt.input 0 to %x {rank = 4 : i64}
  iosrt.output 0 from %x {rank = 4 : i64}
  return
}
