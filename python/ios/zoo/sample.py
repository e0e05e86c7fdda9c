"""The example network of IOS's README (``examples/sample.py``).

Input 375x15x15; four 3x3 convolutions (padding 1, relu) and a concat, one block:

* conv1: input -> 375 channels      * conv2: input -> 750 channels
* conv3: input -> 375 channels      * conv4: conv1 -> 750 channels
* concat(conv4, conv2, conv3) -> 1875 channels

IOS's README reports the sequential schedule [1], [4], [3], [2], [5] and the
IOS-Parallel schedule [1 | 2], [4 | 3], [5] for it (docs/IOS.md, "The networks").
"""

from ios.zoo.common import Net


def sample(batch=1):
    net = Net("sample", batch, (375, 15, 15))
    v = net.input
    net.block()
    v1 = net.conv(v, 375, kernel=3, padding=1, name="conv1")
    v2 = net.conv(v, 750, kernel=3, padding=1, name="conv2")
    v3 = net.conv(v, 375, kernel=3, padding=1, name="conv3")
    v1 = net.conv(v1, 750, kernel=3, padding=1, name="conv4")
    out = net.identity([[v1], [v2], [v3]], name="concat")
    return net.finish(out)
