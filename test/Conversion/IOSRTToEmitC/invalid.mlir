// RUN: ios-opt %s -split-input-file --convert-iosrt-to-emitc -verify-diagnostics
// RUN: not ios-opt %s --convert-iosrt-to-emitc=target=gpu 2>&1 | FileCheck %s --check-prefix=TARGET

// TARGET: error: target='gpu': expected 'cpu' or 'cuda'

// expected-error @+1 {{the module holds 2 programs; choose the one main() runs with main=NAME, or emit-main=false}}
module {
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
}

// -----

!t = tensor<1x4x8x8xf32>

// expected-error @+1 {{function @graph holds ios ops; lower it with --convert-ios-to-iosrt first}}
func.func @graph(%x: !t {ios.input}) -> !t {
  %r = ios.activation relu %x : !t
  return %r : !t
}
