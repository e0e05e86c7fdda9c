// Two independent convolutions and their sum (the tools' output tests).
!t = tensor<1x16x8x8xf32>
!w = tensor<16x16x3x3xf32>
!b = tensor<16xf32>
func.func @pair(%x: !t {ios.input}, %wa: !w {ios.param = "a.w"}, %ba: !b {ios.param = "a.b"},
                %wb: !w {ios.param = "b.w"}, %bb: !b {ios.param = "b.b"}) -> !t {
  %a = ios.conv2d %x, %wa, %ba {padding = array<i64: 1, 1>} : (!t, !w, !b) -> !t
  %b = ios.conv2d %x, %wb, %bb {padding = array<i64: 1, 1>} : (!t, !w, !b) -> !t
  %s = ios.add %a, %b : !t
  return %s : !t
}
