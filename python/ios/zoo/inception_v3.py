"""Inception V3 as IOS benchmarks it (``models/inception_v3.py``).

Input 3x299x299; 13 blocks (front, 3x InceptionA, InceptionB, 4x InceptionC,
InceptionD, 2x InceptionE, global average pool); every convolution has a fused
relu (batch norm folded); no classifier. 94 convolutions, 14 pools and 11
concats = 119 scheduling units. Op names follow torchvision's ``Inception3``.
"""

from ios.zoo.common import Net


def _front(net, v):
    net.block()
    v = net.conv(v, 32, kernel=3, stride=2, name="Conv2d_1a_3x3")  # 32x149x149
    v = net.conv(v, 32, kernel=3, name="Conv2d_2a_3x3")  # 32x147x147
    v = net.conv(v, 64, kernel=3, padding=1, name="Conv2d_2b_3x3")  # 64x147x147
    v = net.pool(v, "max", kernel=3, stride=2, name="maxpool1")  # 64x73x73
    v = net.conv(v, 80, kernel=1, name="Conv2d_3b_1x1")  # 80x73x73
    v = net.conv(v, 192, kernel=3, name="Conv2d_4a_3x3")  # 192x71x71
    return net.pool(v, "max", kernel=3, stride=2, name="maxpool2")  # 192x35x35


def _inception_a(net, v, pool_features, name):
    net.block()
    with net.scope(name):
        b1 = net.conv(v, 64, kernel=1, name="branch1x1")
        b5 = net.conv(v, 48, kernel=1, name="branch5x5_1")
        b5 = net.conv(b5, 64, kernel=5, padding=2, name="branch5x5_2")
        b3 = net.conv(v, 64, kernel=1, name="branch3x3dbl_1")
        b3 = net.conv(b3, 96, kernel=3, padding=1, name="branch3x3dbl_2")
        b3 = net.conv(b3, 96, kernel=3, padding=1, name="branch3x3dbl_3")
        bp = net.pool(v, "avg", kernel=3, stride=1, padding=1, name="branch_pool_avg")
        bp = net.conv(bp, pool_features, kernel=1, name="branch_pool")
        return net.identity([[b1], [b5], [b3], [bp]], name="concat")


def _inception_b(net, v, name):
    net.block()
    with net.scope(name):
        b3 = net.conv(v, 384, kernel=3, stride=2, name="branch3x3")
        bd = net.conv(v, 64, kernel=1, name="branch3x3dbl_1")
        bd = net.conv(bd, 96, kernel=3, padding=1, name="branch3x3dbl_2")
        bd = net.conv(bd, 96, kernel=3, stride=2, name="branch3x3dbl_3")
        bp = net.pool(v, "max", kernel=3, stride=2, name="branch_pool")
        return net.identity([[b3], [bd], [bp]], name="concat")


def _inception_c(net, v, c7, name):
    net.block()
    with net.scope(name):
        b1 = net.conv(v, 192, kernel=1, name="branch1x1")
        b7 = net.conv(v, c7, kernel=1, name="branch7x7_1")
        b7 = net.conv(b7, c7, kernel=(1, 7), padding=(0, 3), name="branch7x7_2")
        b7 = net.conv(b7, 192, kernel=(7, 1), padding=(3, 0), name="branch7x7_3")
        bd = net.conv(v, c7, kernel=1, name="branch7x7dbl_1")
        bd = net.conv(bd, c7, kernel=(7, 1), padding=(3, 0), name="branch7x7dbl_2")
        bd = net.conv(bd, c7, kernel=(1, 7), padding=(0, 3), name="branch7x7dbl_3")
        bd = net.conv(bd, c7, kernel=(7, 1), padding=(3, 0), name="branch7x7dbl_4")
        bd = net.conv(bd, 192, kernel=(1, 7), padding=(0, 3), name="branch7x7dbl_5")
        bp = net.pool(v, "avg", kernel=3, stride=1, padding=1, name="branch_pool_avg")
        bp = net.conv(bp, 192, kernel=1, name="branch_pool")
        return net.identity([[b1], [b7], [bd], [bp]], name="concat")


def _inception_d(net, v, name):
    net.block()
    with net.scope(name):
        b3 = net.conv(v, 192, kernel=1, name="branch3x3_1")
        b3 = net.conv(b3, 320, kernel=3, stride=2, name="branch3x3_2")
        b7 = net.conv(v, 192, kernel=1, name="branch7x7x3_1")
        b7 = net.conv(b7, 192, kernel=(1, 7), padding=(0, 3), name="branch7x7x3_2")
        b7 = net.conv(b7, 192, kernel=(7, 1), padding=(3, 0), name="branch7x7x3_3")
        b7 = net.conv(b7, 192, kernel=3, stride=2, name="branch7x7x3_4")
        bp = net.pool(v, "max", kernel=3, stride=2, name="branch_pool")
        return net.identity([[b3], [b7], [bp]], name="concat")


def _inception_e(net, v, name):
    net.block()
    with net.scope(name):
        b1 = net.conv(v, 320, kernel=1, name="branch1x1")
        b3 = net.conv(v, 384, kernel=1, name="branch3x3_1")
        b3a = net.conv(b3, 384, kernel=(1, 3), padding=(0, 1), name="branch3x3_2a")
        b3b = net.conv(b3, 384, kernel=(3, 1), padding=(1, 0), name="branch3x3_2b")
        bd = net.conv(v, 448, kernel=1, name="branch3x3dbl_1")
        bd = net.conv(bd, 384, kernel=3, padding=1, name="branch3x3dbl_2")
        bda = net.conv(bd, 384, kernel=(1, 3), padding=(0, 1), name="branch3x3dbl_3a")
        bdb = net.conv(bd, 384, kernel=(3, 1), padding=(1, 0), name="branch3x3dbl_3b")
        bp = net.pool(v, "avg", kernel=3, stride=1, padding=1, name="branch_pool_avg")
        bp = net.conv(bp, 192, kernel=1, name="branch_pool")
        return net.identity([[b1], [b3a], [b3b], [bda], [bdb], [bp]], name="concat")


def inception_v3(batch=1):
    net = Net("inception_v3", batch, (3, 299, 299))
    v = _front(net, net.input)
    v = _inception_a(net, v, 32, "Mixed_5b")
    v = _inception_a(net, v, 64, "Mixed_5c")
    v = _inception_a(net, v, 64, "Mixed_5d")
    v = _inception_b(net, v, "Mixed_6a")
    v = _inception_c(net, v, 128, "Mixed_6b")
    v = _inception_c(net, v, 160, "Mixed_6c")
    v = _inception_c(net, v, 160, "Mixed_6d")
    v = _inception_c(net, v, 192, "Mixed_6e")
    v = _inception_d(net, v, "Mixed_7a")
    v = _inception_e(net, v, "Mixed_7b")
    v = _inception_e(net, v, "Mixed_7c")
    net.block()
    v = net.pool(v, "global_avg", name="avgpool")  # 2048x1x1
    return net.finish(v)
