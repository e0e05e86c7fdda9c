// RUN: ios-opt %s | FileCheck %s
// RUN: ios-opt %s | ios-opt | FileCheck %s
// RUN: ios-opt %s --mlir-print-op-generic | ios-opt | FileCheck %s
// RUN: ios-opt %s --mlir-print-op-generic | FileCheck %s --check-prefix=GENERIC

// Round trip of every graph op in its custom form, through the generic form.

// CHECK-LABEL: func.func @conv
// CHECK-SAME:    {ios.input}
// CHECK-SAME:    {ios.param = "c.weight"}
// CHECK:         ios.conv2d %{{.*}}, %{{.*}}, %{{.*}} {act = #ios.act<relu>, padding = array<i64: 1, 1>, strides = array<i64: 2, 2>} : (tensor<1x8x9x9xf32>, tensor<16x8x3x3xf32>, tensor<16xf32>) -> tensor<1x16x5x5xf32>
// CHECK:         ios.conv2d %{{.*}} {dilations = array<i64: 2, 2>, groups = 8 : i64} : (tensor<1x8x9x9xf32>, tensor<8x1x3x3xf32>, tensor<8xf32>) -> tensor<1x8x5x5xf32>
// GENERIC-LABEL: "func.func"
// GENERIC:       "ios.conv2d"(%{{.*}}) <{act = #ios.act<relu>, dilations = array<i64: 1, 1>, groups = 1 : i64, padding = array<i64: 1, 1>, strides = array<i64: 2, 2>}>
func.func @conv(%x: tensor<1x8x9x9xf32> {ios.input},
                %w: tensor<16x8x3x3xf32> {ios.param = "c.weight"},
                %b: tensor<16xf32> {ios.param = "c.bias"},
                %dw: tensor<8x1x3x3xf32> {ios.param = "dw.weight"},
                %db: tensor<8xf32> {ios.param = "dw.bias"})
    -> (tensor<1x16x5x5xf32>, tensor<1x8x5x5xf32>) {
  %0 = ios.conv2d %x, %w, %b {strides = array<i64: 2, 2>, padding = array<i64: 1, 1>, act = #ios.act<relu>}
     : (tensor<1x8x9x9xf32>, tensor<16x8x3x3xf32>, tensor<16xf32>) -> tensor<1x16x5x5xf32>
  %1 = ios.conv2d %x, %dw, %db {groups = 8 : i64, dilations = array<i64: 2, 2>}
     : (tensor<1x8x9x9xf32>, tensor<8x1x3x3xf32>, tensor<8xf32>) -> tensor<1x8x5x5xf32>
  return %0, %1 : tensor<1x16x5x5xf32>, tensor<1x8x5x5xf32>
}

// CHECK-LABEL: func.func @pool
// CHECK:         ios.pool2d max %{{.*}} {kernel = array<i64: 3, 3>, strides = array<i64: 2, 2>} : tensor<2x4x9x9xf32> -> tensor<2x4x4x4xf32>
// CHECK:         ios.pool2d avg %{{.*}} {kernel = array<i64: 3, 3>, padding = array<i64: 1, 1>, strides = array<i64: 1, 1>} : tensor<2x4x9x9xf32> -> tensor<2x4x9x9xf32>
// CHECK:         ios.pool2d avg %{{.*}} {kernel = array<i64: 2, 2>} : tensor<2x4x9x9xf32> -> tensor<2x4x4x4xf32>
// CHECK:         ios.pool2d global_avg %{{.*}} : tensor<2x4x9x9xf32> -> tensor<2x4x1x1xf32>
// CHECK:         ios.pool2d global_max %{{.*}} : tensor<2x4x9x9xf32> -> tensor<2x4x1x1xf32>
// GENERIC-LABEL: "func.func"
// GENERIC:       "ios.pool2d"(%{{.*}}) <{count_include_pad = true, kernel = array<i64: 3, 3>, kind = #ios.pool<max>, strides = array<i64: 2, 2>}>
func.func @pool(%x: tensor<2x4x9x9xf32>) {
  %0 = ios.pool2d max %x {kernel = array<i64: 3, 3>, strides = array<i64: 2, 2>} : tensor<2x4x9x9xf32> -> tensor<2x4x4x4xf32>
  %1 = ios.pool2d avg %x {kernel = array<i64: 3, 3>, strides = array<i64: 1, 1>, padding = array<i64: 1, 1>} : tensor<2x4x9x9xf32> -> tensor<2x4x9x9xf32>
  %2 = ios.pool2d avg %x {kernel = array<i64: 2, 2>} : tensor<2x4x9x9xf32> -> tensor<2x4x4x4xf32>
  %3 = ios.pool2d global_avg %x : tensor<2x4x9x9xf32> -> tensor<2x4x1x1xf32>
  %4 = ios.pool2d global_max %x : tensor<2x4x9x9xf32> -> tensor<2x4x1x1xf32>
  return
}

// CHECK-LABEL: func.func @elementwise
// CHECK:         %[[R:.*]] = ios.activation relu %{{.*}} : tensor<1x4x2x2xf32>
// CHECK:         ios.activation sigmoid %[[R]] : tensor<1x4x2x2xf32>
// CHECK:         ios.activation tanh %[[R]] : tensor<1x4x2x2xf32>
// CHECK:         ios.add %{{.*}}, %{{.*}}, %{{.*}} : tensor<1x4x2x2xf32>
// CHECK:         ios.mul %{{.*}}, %{{.*}} : tensor<1x4x2x2xf32>
// GENERIC-LABEL: "func.func"
// GENERIC:       "ios.activation"(%{{.*}}) <{kind = #ios.act<relu>}>
// GENERIC:       "ios.add"(%{{.*}}, %{{.*}}, %{{.*}}) : (tensor<1x4x2x2xf32>, tensor<1x4x2x2xf32>, tensor<1x4x2x2xf32>) -> tensor<1x4x2x2xf32>
func.func @elementwise(%a: tensor<1x4x2x2xf32>, %b: tensor<1x4x2x2xf32>) -> tensor<1x4x2x2xf32> {
  %0 = ios.activation relu %a : tensor<1x4x2x2xf32>
  %1 = ios.activation sigmoid %0 : tensor<1x4x2x2xf32>
  %2 = ios.activation tanh %0 : tensor<1x4x2x2xf32>
  %3 = ios.add %1, %2, %b : tensor<1x4x2x2xf32>
  %4 = ios.mul %3, %a : tensor<1x4x2x2xf32>
  return %4 : tensor<1x4x2x2xf32>
}

// CHECK-LABEL: func.func @channels
// CHECK:         %[[C:.*]] = ios.concat %{{.*}}, %{{.*}} : (tensor<1x64x8x8xf32>, tensor<1x32x8x8xf32>) -> tensor<1x96x8x8xf32>
// CHECK:         ios.slice %[[C]][64 : 96] : tensor<1x96x8x8xf32> -> tensor<1x32x8x8xf32>
// GENERIC-LABEL: "func.func"
// GENERIC:       "ios.slice"(%{{.*}}) <{begin = 64 : i64, end = 96 : i64}>
func.func @channels(%a: tensor<1x64x8x8xf32>, %b: tensor<1x32x8x8xf32>) -> tensor<1x32x8x8xf32> {
  %0 = ios.concat %a, %b : (tensor<1x64x8x8xf32>, tensor<1x32x8x8xf32>) -> tensor<1x96x8x8xf32>
  %1 = ios.slice %0[64:96] : tensor<1x96x8x8xf32> -> tensor<1x32x8x8xf32>
  return %1 : tensor<1x32x8x8xf32>
}

// CHECK-LABEL: func.func @head
// CHECK:         %[[F:.*]] = ios.flatten %{{.*}} : tensor<2x16x1x1xf32> -> tensor<2x16xf32>
// CHECK:         %[[L:.*]] = ios.linear %[[F]], %{{.*}}, %{{.*}} : (tensor<2x16xf32>, tensor<10x16xf32>, tensor<10xf32>) -> tensor<2x10xf32>
// CHECK:         ios.softmax %[[L]] : tensor<2x10xf32>
func.func @head(%x: tensor<2x16x1x1xf32>, %w: tensor<10x16xf32> {ios.param = "fc.weight"},
                %b: tensor<10xf32> {ios.param = "fc.bias"}) -> tensor<2x10xf32> {
  %0 = ios.flatten %x : tensor<2x16x1x1xf32> -> tensor<2x16xf32>
  %1 = ios.linear %0, %w, %b : (tensor<2x16xf32>, tensor<10x16xf32>, tensor<10xf32>) -> tensor<2x10xf32>
  %2 = ios.softmax %1 : tensor<2x10xf32>
  return %2 : tensor<2x10xf32>
}

// Units and part hints are discardable attributes on graph ops.
// CHECK-LABEL: func.func @unit
// CHECK:         ios.activation relu %{{.*}} {ios.part = 2 : i64, ios.unit = "u0"}
// CHECK:         ios.conv2d {{.*}} {groups = 4 : i64, ios.part = 2 : i64, ios.unit = "u0"}
func.func @unit(%x: tensor<1x4x8x8xf32>, %w: tensor<4x1x3x3xf32>, %b: tensor<4xf32>) -> tensor<1x4x6x6xf32> {
  %0 = ios.activation relu %x {ios.unit = "u0", ios.part = 2 : i64} : tensor<1x4x8x8xf32>
  %1 = ios.conv2d %0, %w, %b {groups = 4 : i64, ios.unit = "u0", ios.part = 2 : i64}
     : (tensor<1x4x8x8xf32>, tensor<4x1x3x3xf32>, tensor<4xf32>) -> tensor<1x4x6x6xf32>
  return %1 : tensor<1x4x6x6xf32>
}

// A merge stage: three convolutions with different kernels merged into one
// (zero-padded to 3x3), split back by slices.
// CHECK-LABEL: func.func @merge
// CHECK:         %[[S:.*]]:3 = ios.stage merge latency_ms = 5.000000e-02 {
// CHECK:           %[[G:.*]]:3 = ios.group {
// CHECK:             %[[M:.*]] = ios.conv2d
// CHECK:             ios.slice %[[M]][0 : 64]
// CHECK:             ios.slice %[[M]][64 : 112]
// CHECK:             ios.slice %[[M]][112 : 176]
// CHECK:           ios.yield %[[G]]#0, %[[G]]#1, %[[G]]#2
// GENERIC-LABEL: "func.func"
// GENERIC:       "ios.stage"() <{latency_ms = 5.000000e-02 : f64, strategy = #ios.strategy<merge>}> ({
// GENERIC:         "ios.group"() ({
func.func @merge(%x: tensor<1x192x35x35xf32>, %w: tensor<176x192x3x3xf32>, %b: tensor<176xf32>)
    -> (tensor<1x64x35x35xf32>, tensor<1x48x35x35xf32>, tensor<1x64x35x35xf32>) {
  %s:3 = ios.stage merge latency_ms = 0.05 {
    %g:3 = ios.group {
      %m = ios.conv2d %x, %w, %b {padding = array<i64: 1, 1>, act = #ios.act<relu>}
         : (tensor<1x192x35x35xf32>, tensor<176x192x3x3xf32>, tensor<176xf32>) -> tensor<1x176x35x35xf32>
      %a = ios.slice %m[0:64] : tensor<1x176x35x35xf32> -> tensor<1x64x35x35xf32>
      %c = ios.slice %m[64:112] : tensor<1x176x35x35xf32> -> tensor<1x48x35x35xf32>
      %d = ios.slice %m[112:176] : tensor<1x176x35x35xf32> -> tensor<1x64x35x35xf32>
      ios.yield %a, %c, %d : tensor<1x64x35x35xf32>, tensor<1x48x35x35xf32>, tensor<1x64x35x35xf32>
    } -> tensor<1x64x35x35xf32>, tensor<1x48x35x35xf32>, tensor<1x64x35x35xf32>
    ios.yield %g#0, %g#1, %g#2 : tensor<1x64x35x35xf32>, tensor<1x48x35x35xf32>, tensor<1x64x35x35xf32>
  } -> tensor<1x64x35x35xf32>, tensor<1x48x35x35xf32>, tensor<1x64x35x35xf32>
  return %s#0, %s#1, %s#2 : tensor<1x64x35x35xf32>, tensor<1x48x35x35xf32>, tensor<1x64x35x35xf32>
}

// A group holding a chain runs it in order on one stream.
// CHECK-LABEL: func.func @chain
// CHECK:         ios.stage concurrent {
// CHECK-NEXT:      ios.group {
// CHECK-NEXT:        ios.activation relu
// CHECK-NEXT:        ios.activation tanh
func.func @chain(%x: tensor<1x4x2x2xf32>) -> tensor<1x4x2x2xf32> {
  %s = ios.stage concurrent {
    %g = ios.group {
      %0 = ios.activation relu %x : tensor<1x4x2x2xf32>
      %1 = ios.activation tanh %0 : tensor<1x4x2x2xf32>
      ios.yield %1 : tensor<1x4x2x2xf32>
    } -> tensor<1x4x2x2xf32>
    ios.yield %g : tensor<1x4x2x2xf32>
  } -> tensor<1x4x2x2xf32>
  return %s : tensor<1x4x2x2xf32>
}

// The ops imported models need (docs/Import.md): new activation kinds,
// ceil_mode and count_include_pad pooling, padding, broadcasting add/mul,
// per-channel affine, nearest upsampling, channel shuffle.
// CHECK-LABEL: func.func @imported
// CHECK:         ios.activation hardswish %{{.*}} : tensor<2x8x7x7xf32>
// CHECK:         ios.conv2d %{{.*}} {act = #ios.act<silu>, padding = array<i64: 1, 1>}
// CHECK:         ios.pool2d max %{{.*}} {ceil_mode, kernel = array<i64: 3, 3>, strides = array<i64: 2, 2>} : tensor<2x8x7x7xf32> -> tensor<2x8x3x3xf32>
// CHECK:         ios.pool2d avg %{{.*}} {ceil_mode, count_include_pad = false, kernel = array<i64: 3, 3>, padding = array<i64: 1, 1>, strides = array<i64: 2, 2>} : tensor<2x8x7x7xf32> -> tensor<2x8x4x4xf32>
// CHECK:         ios.pad %{{.*}} {pads = array<i64: 0, 0, 1, 1>, value = -3.40282347E+38 : f32} : tensor<2x8x7x7xf32> -> tensor<2x8x8x8xf32>
// CHECK:         ios.pad %{{.*}} {pads = array<i64: 1, 2, 3, 4>} : tensor<2x8x7x7xf32> -> tensor<2x8x11x13xf32>
// CHECK:         ios.mul %{{.*}}, %{{.*}} : tensor<2x8x7x7xf32>, tensor<2x8x1x1xf32>
// CHECK:         ios.mul %{{.*}}, %{{.*}} : tensor<2x8x7x7xf32>{{$}}
// CHECK:         ios.add %{{.*}}, %{{.*}}, %{{.*}} : tensor<2x8x1x1xf32>, tensor<2x8x7x7xf32>, tensor<2x8x7x7xf32>
// CHECK:         ios.affine %{{.*}}, %{{.*}}, %{{.*}} : tensor<2x8x7x7xf32>, tensor<8xf32>, tensor<8xf32>
// CHECK:         ios.affine %{{.*}}, %{{.*}}, %{{.*}} : tensor<2x8xf32>, tensor<8xf32>, tensor<8xf32>
// CHECK:         ios.upsample nearest %{{.*}} {scale = array<i64: 2, 3>} : tensor<2x8x7x7xf32> -> tensor<2x8x14x21xf32>
// CHECK:         ios.channel_shuffle %{{.*}} {groups = 4 : i64} : tensor<2x8x7x7xf32>
func.func @imported(%x: tensor<2x8x7x7xf32>, %s: tensor<2x8x1x1xf32>, %v: tensor<2x8xf32>,
                    %w: tensor<8x8x3x3xf32>, %b: tensor<8xf32>) {
  %0 = ios.activation hardswish %x : tensor<2x8x7x7xf32>
  %1 = ios.conv2d %x, %w, %b {padding = array<i64: 1, 1>, act = #ios.act<silu>} : (tensor<2x8x7x7xf32>, tensor<8x8x3x3xf32>, tensor<8xf32>) -> tensor<2x8x7x7xf32>
  %2 = ios.pool2d max %x {kernel = array<i64: 3, 3>, strides = array<i64: 2, 2>, ceil_mode} : tensor<2x8x7x7xf32> -> tensor<2x8x3x3xf32>
  %3 = ios.pool2d avg %x {kernel = array<i64: 3, 3>, strides = array<i64: 2, 2>, padding = array<i64: 1, 1>, ceil_mode, count_include_pad = false} : tensor<2x8x7x7xf32> -> tensor<2x8x4x4xf32>
  %4 = ios.pad %x {pads = array<i64: 0, 0, 1, 1>, value = -3.40282347e+38 : f32} : tensor<2x8x7x7xf32> -> tensor<2x8x8x8xf32>
  %5 = ios.pad %x {pads = array<i64: 1, 2, 3, 4>, value = 0.0 : f32} : tensor<2x8x7x7xf32> -> tensor<2x8x11x13xf32>
  %6 = ios.mul %x, %s : tensor<2x8x7x7xf32>, tensor<2x8x1x1xf32>
  %7 = ios.mul %x, %x : tensor<2x8x7x7xf32>
  %8 = ios.add %s, %x, %x : tensor<2x8x1x1xf32>, tensor<2x8x7x7xf32>, tensor<2x8x7x7xf32>
  %9 = ios.affine %x, %b, %b : tensor<2x8x7x7xf32>, tensor<8xf32>, tensor<8xf32>
  %10 = ios.affine %v, %b, %b : tensor<2x8xf32>, tensor<8xf32>, tensor<8xf32>
  %11 = ios.upsample nearest %x {scale = array<i64: 2, 3>} : tensor<2x8x7x7xf32> -> tensor<2x8x14x21xf32>
  %12 = ios.channel_shuffle %x {groups = 4} : tensor<2x8x7x7xf32>
  return
}
