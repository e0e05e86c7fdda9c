"""SqueezeNet as IOS benchmarks it (``models/squeezenet.py``): with bypasses.

Input 3x224x224; 12 blocks: conv 7x7/2 (96) + maxpool 3/2; fire modules
(squeeze, expand) = (16,64), (16,64), (32,128), maxpool 3/2, (32,128), (48,192),
(48,192), (64,256), maxpool 3/2, (64,256); conv 1x1 (1000) + global average pool.
A fire module is 1x1 squeeze -> {3x3 expand, 1x1 expand} -> concat, plus a
bypass: the module input when the channel counts match, else a 1x1 conv to
2*expand channels; the module output is concat + bypass. Every convolution has a
fused relu. 30 convolutions, 4 pools, 16 concat/add = 50 scheduling units.
Names follow the SqueezeNet paper (conv1, fire2..fire9, conv10).
"""

from ios.zoo.common import Net


def _fire(net, v, squeeze, expand, name):
    net.block()
    with net.scope(name):
        s = net.conv(v, squeeze, kernel=1, name="squeeze")
        e3 = net.conv(s, expand, kernel=3, padding=1, name="expand3x3")
        e1 = net.conv(s, expand, kernel=1, name="expand1x1")
        cat = net.identity([[e3], [e1]], name="concat")
        if cat.channels == v.channels:
            bypass = v
        else:
            bypass = net.conv(v, 2 * expand, kernel=1, name="bypass")
        return net.identity([[cat, bypass]], name="add")


def squeezenet(batch=1):
    net = Net("squeezenet", batch, (3, 224, 224))
    net.block()
    v = net.conv(net.input, 96, kernel=7, stride=2, padding=3, name="conv1")
    v = net.pool(v, "max", kernel=3, stride=2, name="maxpool1")
    v = _fire(net, v, 16, 64, "fire2")
    v = _fire(net, v, 16, 64, "fire3")
    v = _fire(net, v, 32, 128, "fire4")
    net.block()
    v = net.pool(v, "max", kernel=3, stride=2, name="maxpool4")
    v = _fire(net, v, 32, 128, "fire5")
    v = _fire(net, v, 48, 192, "fire6")
    v = _fire(net, v, 48, 192, "fire7")
    v = _fire(net, v, 64, 256, "fire8")
    net.block()
    v = net.pool(v, "max", kernel=3, stride=2, name="maxpool8")
    v = _fire(net, v, 64, 256, "fire9")
    net.block()
    v = net.conv(v, 1000, kernel=1, name="conv10")
    v = net.pool(v, "global_avg", name="avgpool")
    return net.finish(v)
