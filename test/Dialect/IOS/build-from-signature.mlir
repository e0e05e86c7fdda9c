// RUN: ios-opt %s --test-ios-build-from-signature -o /dev/null 2>&1 | FileCheck %s --implicit-check-not="another signature"

// Every graph op built again from its signature
// (SchedulableOpInterface::buildFromSignature) gives the same signature:
// the stage server measures the op the scheduler described.

// CHECK: remark: 'ios.conv2d' with 2 parameter(s) from conv{act="relu",dilation=[1,1],groups=1,kernel=[3,3],out_channels=16,padding=[1,1],stride=[2,2]}([8,9,9])->[16,5,5]x1
// CHECK: remark: 'ios.conv2d' with 2 parameter(s) from conv{act="identity",dilation=[2,2],groups=8,kernel=[3,3],out_channels=8,padding=[0,0],stride=[1,1]}([8,9,9])->[8,5,5]x1
// CHECK: remark: 'ios.conv2d' with 2 parameter(s) from conv{act="hardswish",dilation=[1,1],groups=2,kernel=[1,3],out_channels=4,padding=[0,1],stride=[1,1]}([8,9,9])->[4,9,9]x1
func.func @conv(%x: tensor<1x8x9x9xf32> {ios.input},
                %w: tensor<16x8x3x3xf32> {ios.param = "w"}, %b: tensor<16xf32> {ios.param = "b"},
                %dw: tensor<8x1x3x3xf32> {ios.param = "dw"}, %db: tensor<8xf32> {ios.param = "db"},
                %gw: tensor<4x4x1x3xf32> {ios.param = "gw"}, %gb: tensor<4xf32> {ios.param = "gb"}) {
  %0 = ios.conv2d %x, %w, %b {strides = array<i64: 2, 2>, padding = array<i64: 1, 1>, act = #ios.act<relu>}
     : (tensor<1x8x9x9xf32>, tensor<16x8x3x3xf32>, tensor<16xf32>) -> tensor<1x16x5x5xf32>
  %1 = ios.conv2d %x, %dw, %db {groups = 8 : i64, dilations = array<i64: 2, 2>}
     : (tensor<1x8x9x9xf32>, tensor<8x1x3x3xf32>, tensor<8xf32>) -> tensor<1x8x5x5xf32>
  %2 = ios.conv2d %x, %gw, %gb {groups = 2 : i64, padding = array<i64: 0, 1>, act = #ios.act<hardswish>}
     : (tensor<1x8x9x9xf32>, tensor<4x4x1x3xf32>, tensor<4xf32>) -> tensor<1x4x9x9xf32>
  return
}

// CHECK: remark: 'ios.pool2d' with 0 parameter(s) from pool{kernel=[3,3],padding=[0,0],pool_type="max",stride=[2,2]}([4,9,9])->[4,4,4]x2
// CHECK: remark: 'ios.pool2d' with 0 parameter(s) from pool{kernel=[3,3],padding=[1,1],pool_type="avg",stride=[1,1]}([4,9,9])->[4,9,9]x2
// CHECK: remark: 'ios.pool2d' with 0 parameter(s) from pool{kernel=[2,2],padding=[0,0],pool_type="avg",stride=[2,2]}([4,9,9])->[4,4,4]x2
// CHECK: remark: 'ios.pool2d' with 0 parameter(s) from pool{ceil_mode=1,count_include_pad=0,kernel=[3,3],padding=[1,1],pool_type="avg",stride=[2,2]}([4,9,9])->[4,5,5]x2
// CHECK: remark: 'ios.pool2d' with 0 parameter(s) from pool{ceil_mode=1,kernel=[2,2],padding=[0,0],pool_type="max",stride=[2,2]}([4,9,9])->[4,5,5]x2
// CHECK: remark: 'ios.pool2d' with 0 parameter(s) from pool{pool_type="global_avg"}([4,9,9])->[4,1,1]x2
// CHECK: remark: 'ios.pool2d' with 0 parameter(s) from pool{pool_type="global_max"}([4,9,9])->[4,1,1]x2
func.func @pool(%x: tensor<2x4x9x9xf32>) {
  %0 = ios.pool2d max %x {kernel = array<i64: 3, 3>, strides = array<i64: 2, 2>} : tensor<2x4x9x9xf32> -> tensor<2x4x4x4xf32>
  %1 = ios.pool2d avg %x {kernel = array<i64: 3, 3>, strides = array<i64: 1, 1>, padding = array<i64: 1, 1>} : tensor<2x4x9x9xf32> -> tensor<2x4x9x9xf32>
  %2 = ios.pool2d avg %x {kernel = array<i64: 2, 2>} : tensor<2x4x9x9xf32> -> tensor<2x4x4x4xf32>
  %3 = ios.pool2d avg %x {kernel = array<i64: 3, 3>, strides = array<i64: 2, 2>, padding = array<i64: 1, 1>, ceil_mode, count_include_pad = false} : tensor<2x4x9x9xf32> -> tensor<2x4x5x5xf32>
  %4 = ios.pool2d max %x {kernel = array<i64: 2, 2>, ceil_mode} : tensor<2x4x9x9xf32> -> tensor<2x4x5x5xf32>
  %5 = ios.pool2d global_avg %x : tensor<2x4x9x9xf32> -> tensor<2x4x1x1xf32>
  %6 = ios.pool2d global_max %x : tensor<2x4x9x9xf32> -> tensor<2x4x1x1xf32>
  return
}

// CHECK-COUNT-7: remark: 'ios.activation' with 0 parameter(s) from activation{act_type=
// CHECK: remark: 'ios.add' with 0 parameter(s) from add{}([4,2,2];[4,2,2];[4,2,2])->[4,2,2]x1
// CHECK: remark: 'ios.add' with 0 parameter(s) from add{}([4,2,2];[4,1,1])->[4,2,2]x1
// CHECK: remark: 'ios.mul' with 0 parameter(s) from mul{}([4,2,2];[4,2,2])->[4,2,2]x1
// CHECK: remark: 'ios.mul' with 0 parameter(s) from mul{}([4,1,1];[4,2,2])->[4,2,2]x1
// CHECK: remark: 'ios.affine' with 2 parameter(s) from affine{}([4,2,2])->[4,2,2]x1
// CHECK: remark: 'ios.affine' with 2 parameter(s) from affine{}([6])->[6]x1
func.func @elementwise(%a: tensor<1x4x2x2xf32>, %b: tensor<1x4x2x2xf32>, %s: tensor<1x4x1x1xf32>,
                       %f: tensor<1x6xf32>, %c4: tensor<4xf32> {ios.param = "c4"},
                       %c6: tensor<6xf32> {ios.param = "c6"}) {
  %0 = ios.activation relu %a : tensor<1x4x2x2xf32>
  %1 = ios.activation sigmoid %a : tensor<1x4x2x2xf32>
  %2 = ios.activation tanh %a : tensor<1x4x2x2xf32>
  %3 = ios.activation relu6 %a : tensor<1x4x2x2xf32>
  %4 = ios.activation hardsigmoid %a : tensor<1x4x2x2xf32>
  %5 = ios.activation hardswish %a : tensor<1x4x2x2xf32>
  %6 = ios.activation silu %a : tensor<1x4x2x2xf32>
  %7 = ios.add %a, %b, %a : tensor<1x4x2x2xf32>
  %8 = ios.add %a, %s : tensor<1x4x2x2xf32>, tensor<1x4x1x1xf32>
  %9 = ios.mul %a, %b : tensor<1x4x2x2xf32>
  %10 = ios.mul %s, %a : tensor<1x4x1x1xf32>, tensor<1x4x2x2xf32>
  %11 = ios.affine %a, %c4, %c4 : tensor<1x4x2x2xf32>, tensor<4xf32>, tensor<4xf32>
  %12 = ios.affine %f, %c6, %c6 : tensor<1x6xf32>, tensor<6xf32>, tensor<6xf32>
  return
}

// CHECK: remark: 'ios.pad' with 0 parameter(s) from pad{pads=[0,0,1,1],value="0.000000e+00"}([4,3,3])->[4,4,4]x1
// CHECK: remark: 'ios.pad' with 0 parameter(s) from pad{pads=[1,2,0,3],value="-1.500000e+00"}([4,3,3])->[4,4,8]x1
// CHECK: remark: 'ios.upsample' with 0 parameter(s) from upsample{mode="nearest",scale=[2,3]}([4,3,3])->[4,6,9]x1
// CHECK: remark: 'ios.channel_shuffle' with 0 parameter(s) from channel_shuffle{groups=2}([4,3,3])->[4,3,3]x1
// CHECK: remark: 'ios.concat' with 0 parameter(s) from concat{}([4,3,3];[2,3,3];[4,3,3])->[10,3,3]x1
// CHECK: remark: 'ios.slice' with 0 parameter(s) from slice{begin=1,end=3}([4,3,3])->[2,3,3]x1
// CHECK: remark: 'ios.flatten' with 0 parameter(s) from flatten{}([4,3,3])->[36]x1
// CHECK: remark: 'ios.linear' with 2 parameter(s) from linear{out_features=10}([36])->[10]x1
// CHECK: remark: 'ios.softmax' with 0 parameter(s) from softmax{}([10])->[10]x1
func.func @shapes(%x: tensor<1x4x3x3xf32>, %y: tensor<1x2x3x3xf32>,
                  %lw: tensor<10x36xf32> {ios.param = "lw"}, %lb: tensor<10xf32> {ios.param = "lb"}) {
  %0 = ios.pad %x {pads = array<i64: 0, 0, 1, 1>} : tensor<1x4x3x3xf32> -> tensor<1x4x4x4xf32>
  %1 = ios.pad %x {pads = array<i64: 1, 2, 0, 3>, value = -1.5 : f32} : tensor<1x4x3x3xf32> -> tensor<1x4x4x8xf32>
  %2 = ios.upsample nearest %x {scale = array<i64: 2, 3>} : tensor<1x4x3x3xf32> -> tensor<1x4x6x9xf32>
  %3 = ios.channel_shuffle %x {groups = 2} : tensor<1x4x3x3xf32>
  %4 = ios.concat %x, %y, %x : (tensor<1x4x3x3xf32>, tensor<1x2x3x3xf32>, tensor<1x4x3x3xf32>) -> tensor<1x10x3x3xf32>
  %5 = ios.slice %x[1:3] : tensor<1x4x3x3xf32> -> tensor<1x2x3x3xf32>
  %6 = ios.flatten %x : tensor<1x4x3x3xf32> -> tensor<1x36xf32>
  %7 = ios.linear %6, %lw, %lb : (tensor<1x36xf32>, tensor<10x36xf32>, tensor<10xf32>) -> tensor<1x10xf32>
  %8 = ios.softmax %7 : tensor<1x10xf32>
  return
}
