// The example device files schedule, and their names reach the IR.
// RUN: for d in h200 l4 a10 rtx4090; do ios-opt %s --ios-schedule="device=%ios_src_root/devices/$d.json" || exit 1; done | FileCheck %s
// CHECK: #ios.schedule<device = "{{.*}}h200.json", batch = 1, profiler = "analytic:h200"
// CHECK: #ios.schedule<device = "{{.*}}l4.json", batch = 1, profiler = "analytic:l4"
// CHECK: #ios.schedule<device = "{{.*}}a10.json", batch = 1, profiler = "analytic:a10"
// CHECK: #ios.schedule<device = "{{.*}}rtx4090.json", batch = 1, profiler = "analytic:rtx4090"

!x = tensor<1x64x28x28xf32>
func.func @f(%x: !x {ios.input}, %w: tensor<64x64x3x3xf32> {ios.param = "w"},
             %b: tensor<64xf32> {ios.param = "b"}) -> !x {
  %0 = ios.conv2d %x, %w, %b {padding = array<i64: 1, 1>} : (!x, tensor<64x64x3x3xf32>, tensor<64xf32>) -> !x
  %1 = ios.activation relu %x : !x
  %2 = ios.add %0, %1 : !x
  return %2 : !x
}
