"""NasNet-A large ("NasNet 6 @ 4032") as IOS benchmarks it (``models/nasnet.py``).

Input 3x331x331; one IOS block split into 25 parts, one per cell (IOS's
``get_parts``): the 3x3/2 stem conv (96, no activation), cell_stem_0,
cell_stem_1, [first cell + 5 normal cells] at 168 filters, reduction cell,
[first + 5 normal] at 336, reduction cell, [first + 5 normal] at 672, relu,
global average pool. Every op carries ``ios.part`` = its cell's index.

Cells use ReluConv 1x1 projections, separable branches of two ReluSepConv units,
3x3 average / max pools (average pools count padding), and sums inside concat
terms. IOS's quirks are kept: cell_stem_1 sums (not concatenates) its two
strided 1x1 paths and uses ``c1`` (not ``c0``) in its third output term.
488 convolutions, 268 relus, 71 pools; 374 scheduling units.
"""

from ios.zoo.common import Net


def _branch_separable(net, x, out_channels, kernel, stride, padding, name):
    with net.scope(name):
        x = net.relu_sep_conv(x, x.channels, kernel, stride, padding, name="sep1")
        return net.relu_sep_conv(x, out_channels, kernel, 1, padding, name="sep2")


def _branch_separable_stem(net, x, out_channels, kernel, stride, padding, name):
    with net.scope(name):
        x = net.relu_sep_conv(x, out_channels, kernel, stride, padding, name="sep1")
        return net.relu_sep_conv(x, out_channels, kernel, 1, padding, name="sep2")


def _stem0(net, x, f, name):
    net.block()
    with net.scope(name):
        x1 = net.relu_conv(x, f, name="conv_1x1")
        c0l = _branch_separable(net, x1, f, 5, 2, 2, "comb_iter_0_left")
        c0r = _branch_separable_stem(net, x, f, 7, 2, 3, "comb_iter_0_right")
        c0 = net.identity([[c0l, c0r]], name="comb_iter_0")
        c1l = net.pool(x1, "max", 3, 2, 1, name="comb_iter_1_left")
        c1r = _branch_separable_stem(net, x, f, 7, 2, 3, "comb_iter_1_right")
        c1 = net.identity([[c1l, c1r]], name="comb_iter_1")
        c2l = net.pool(x1, "avg", 3, 2, 1, name="comb_iter_2_left")
        c2r = _branch_separable_stem(net, x, f, 5, 2, 2, "comb_iter_2_right")
        c3r = net.pool(c0, "avg", 3, 1, 1, name="comb_iter_3_right")
        c4l = _branch_separable(net, c0, f, 3, 1, 1, "comb_iter_4_left")
        c4r = net.pool(x1, "max", 3, 2, 1, name="comb_iter_4_right")
        return net.identity([[c1], [c2l, c2r], [c3r, c0], [c4l, c4r]], name="out")


def _stem1(net, hp, h, f, name):
    net.block()
    with net.scope(name):
        x_left = net.relu_conv(hp, f, name="conv_1x1")
        x_right_1 = net.relu_conv(h, f // 2, 1, 2, name="path_1")
        x_right_2 = net.relu_conv(h, f // 2, 1, 2, name="path_2")
        x_right = net.identity([[x_right_1, x_right_2]], name="path")
        c0l = _branch_separable(net, x_left, f, 5, 2, 2, "comb_iter_0_left")
        c0r = _branch_separable(net, x_right, f, 7, 2, 3, "comb_iter_0_right")
        c0 = net.identity([[c0l, c0r]], name="comb_iter_0")
        c1l = net.pool(x_left, "max", 3, 2, 1, name="comb_iter_1_left")
        c1r = _branch_separable(net, x_right, f, 7, 2, 3, "comb_iter_1_right")
        c1 = net.identity([[c1l, c1r]], name="comb_iter_1")
        c2l = net.pool(x_left, "avg", 3, 2, 1, name="comb_iter_2_left")
        c2r = _branch_separable(net, x_right, f, 5, 2, 2, "comb_iter_2_right")
        c3r = net.pool(c0, "avg", 3, 1, 1, name="comb_iter_3_right")
        c4l = _branch_separable(net, c0, f, 3, 1, 1, "comb_iter_4_left")
        c4r = net.pool(x_left, "max", 3, 2, 1, name="comb_iter_4_right")
        return net.identity([[c1], [c2l, c2r], [c3r, c1], [c4l, c4r]], name="out")


def _first_cell(net, x, x_prev, left, right, name):
    net.block()
    with net.scope(name):
        x_left_1 = net.relu_conv(x_prev, left, 1, 2, name="path_1")
        x_left_2 = net.relu_conv(x_prev, left, 1, 2, name="path_2")
        x_left = net.identity([[x_left_1], [x_left_2]], name="path")
        x_right = net.relu_conv(x, right, name="conv_1x1")
        c0l = _branch_separable(net, x_right, right, 5, 1, 2, "comb_iter_0_left")
        c0r = _branch_separable(net, x_right, right, 3, 1, 1, "comb_iter_0_right")
        c1l = _branch_separable(net, x_left, right, 5, 1, 2, "comb_iter_1_left")
        c1r = _branch_separable(net, x_left, right, 3, 1, 1, "comb_iter_1_right")
        c2l = net.pool(x_right, "avg", 3, 1, 1, name="comb_iter_2_left")
        c3l = net.pool(x_left, "avg", 3, 1, 1, name="comb_iter_3_left")
        c3r = net.pool(x_left, "avg", 3, 1, 1, name="comb_iter_3_right")
        c4l = _branch_separable(net, x_right, right, 3, 1, 1, "comb_iter_4_left")
        return net.identity([[x_left], [c0l, c0r], [c1l, c1r], [c2l, x_left], [c3l, c3r],
                             [c4l, x_right]], name="out")


def _normal_cell(net, x, x_prev, left, right, name):
    net.block()
    with net.scope(name):
        x_left = net.relu_conv(x_prev, left, name="conv_prev_1x1")
        x_right = net.relu_conv(x, right, name="conv_1x1")
        c0l = _branch_separable(net, x_right, right, 5, 1, 2, "comb_iter_0_left")
        c0r = _branch_separable(net, x_left, left, 3, 1, 1, "comb_iter_0_right")
        c1l = _branch_separable(net, x_left, left, 5, 1, 2, "comb_iter_1_left")
        c1r = _branch_separable(net, x_left, left, 3, 1, 1, "comb_iter_1_right")
        c2l = net.pool(x_right, "avg", 3, 1, 1, name="comb_iter_2_left")
        c3l = net.pool(x_left, "avg", 3, 1, 1, name="comb_iter_3_left")
        c3r = net.pool(x_left, "avg", 3, 1, 1, name="comb_iter_3_right")
        c4l = _branch_separable(net, x_right, right, 3, 1, 1, "comb_iter_4_left")
        return net.identity([[c0l, c0r], [c1l, c1r], [c2l, x_left], [c3l, c3r],
                             [c4l, x_right]], name="out")


def _reduction_cell(net, x, x_prev, left, right, name):
    net.block()
    with net.scope(name):
        x_left = net.relu_conv(x_prev, left, name="conv_prev_1x1")
        x_right = net.relu_conv(x, right, name="conv_1x1")
        c0l = _branch_separable(net, x_right, right, 5, 2, 2, "comb_iter_0_left")
        c0r = _branch_separable(net, x_left, right, 7, 2, 3, "comb_iter_0_right")
        c0 = net.identity([[c0l, c0r]], name="comb_iter_0")
        c1l = net.pool(x_right, "max", 3, 2, 1, name="comb_iter_1_left")
        c1r = _branch_separable(net, x_left, right, 7, 2, 3, "comb_iter_1_right")
        c1 = net.identity([[c1l, c1r]], name="comb_iter_1")
        c2l = net.pool(x_right, "avg", 3, 2, 1, name="comb_iter_2_left")
        c2r = _branch_separable(net, x_left, right, 5, 2, 2, "comb_iter_2_right")
        c3r = net.pool(c0, "avg", 3, 1, 1, name="comb_iter_3_right")
        c4l = _branch_separable(net, c0, right, 3, 1, 1, "comb_iter_4_left")
        c4r = net.pool(x_right, "max", 3, 2, 1, name="comb_iter_4_right")
        return net.identity([[c1l, c1r], [c2l, c2r], [c1, c3r], [c4l, c4r]], name="out")


def nasnet(batch=1, stem_filters=96, filters=168):
    net = Net("nasnet", batch, (3, 331, 331))
    net.block()
    v1 = net.conv(net.input, stem_filters, kernel=3, stride=2, act="none", name="conv0")
    v2 = _stem0(net, v1, filters // 4, "cell_stem_0")
    v3 = _stem1(net, v2, v1, filters // 2, "cell_stem_1")
    cells = [v2, v3]  # outputs of the cells so far

    def cell(kind, x, x_prev, left, right, name):
        cells.append(kind(net, x, x_prev, left, right, name))
        return cells[-1]

    f = filters
    idx = 0
    for stage in range(3):
        mult = 1 << stage
        if stage == 0:
            x = cell(_first_cell, cells[-1], cells[-2], f // 2, f, f"cell_{idx}")
        else:
            # IOS passes the output of the cell *before* the previous normal cell
            # (x_prev of the reduction cell) as the first cell's x_prev.
            x = cell(_first_cell, cells[-1], cells[-3], mult * f // 2, mult * f, f"cell_{idx}")
        idx += 1
        for _ in range(5):
            x = cell(_normal_cell, cells[-1], cells[-2], mult * f, mult * f, f"cell_{idx}")
            idx += 1
        if stage < 2:
            cell(_reduction_cell, cells[-1], cells[-2], 2 * mult * f, 2 * mult * f,
                 f"reduction_cell_{stage}")
    net.block()
    v = net.relu(cells[-1], name="relu")
    net.block()
    v = net.pool(v, "global_avg", name="avgpool")
    return net.finish(v)
