!act = tensor<1x375x15x15xf32>
!w = tensor<375x375x3x3xf32>
!b = tensor<375xf32>
func.func @sample(%x: !act {ios.input},
                  %w1: !w {ios.param = "conv1.weight"}, %b1: !b {ios.param = "conv1.bias"},
                  %w2: !w {ios.param = "conv2.weight"}, %b2: !b {ios.param = "conv2.bias"},
                  %w3: !w {ios.param = "conv3.weight"}, %b3: !b {ios.param = "conv3.bias"},
                  %w4: !w {ios.param = "conv4.weight"}, %b4: !b {ios.param = "conv4.bias"}) -> tensor<1x1125x15x15xf32> {
  %c1 = ios.conv2d %x, %w1, %b1 {padding = array<i64: 1, 1>, act = #ios.act<relu>} : (!act, !w, !b) -> !act loc("conv1")
  %c2 = ios.conv2d %x, %w2, %b2 {padding = array<i64: 1, 1>, act = #ios.act<relu>} : (!act, !w, !b) -> !act loc("conv2")
  %c3 = ios.conv2d %c1, %w3, %b3 {padding = array<i64: 1, 1>, act = #ios.act<relu>} : (!act, !w, !b) -> !act loc("conv3")
  %c4 = ios.conv2d %c1, %w4, %b4 {padding = array<i64: 1, 1>, act = #ios.act<relu>} : (!act, !w, !b) -> !act loc("conv4")
  %cat = ios.concat %c2, %c3, %c4 : (!act, !act, !act) -> tensor<1x1125x15x15xf32> loc("concat")
  return %cat : tensor<1x1125x15x15xf32>
}
