"""RandWire (large regime) as IOS benchmarks it (``models/randwire.py``).

Input 3x224x224; 6 blocks: a 3x3/2 conv to 77 channels (no activation); four
random-graph stages with 154, 308, 616 and 1232 channels, wired by the
Watts-Strogatz graphs in ``data/randwire/`` (16, 32, 32, 32 nodes); a tail of
relu, 1x1 conv to 1280 channels (no activation) and global average pool.

Every graph node is one scheduling unit (IOS's ``ReluSepConv``): the sum of its
predecessors' outputs (an ``ios.add`` when it has several), relu, 3x3 depthwise
conv, 1x1 pointwise conv. Nodes without predecessors read the stage input with
stride 2. A stage's output sums the nodes without successors. Nodes are created
in IOS's order (a LIFO worklist of nodes whose predecessors are built).
226 convolutions, 113 relus, 1 pool; 120 scheduling units.
"""

import os

from ios.zoo.common import Net

GRAPH_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "randwire")
STAGE_GRAPHS = ["ws-16-4-0.75-2.txt", "ws-32-4-0.75-3.txt", "ws-32-4-0.75-4.txt",
                "ws-32-4-0.75-5.txt"]


def read_graph(path):
    """Read a graph file: n, m, then m lines ``u v`` (edge u -> v, u < v)."""
    with open(path) as f:
        tokens = f.read().split()
    n, m = int(tokens[0]), int(tokens[1])
    if len(tokens) != 2 + 2 * m:
        raise ValueError(f"{path}: expected {m} edges")
    edges = [(int(tokens[2 + 2 * i]), int(tokens[3 + 2 * i])) for i in range(m)]
    for u, v in edges:
        if not 0 <= u < v < n:
            raise ValueError(f"{path}: bad edge {u} {v}")
    return n, edges


def _stage(net, r, ch, path, name):
    net.block()
    n, edges = read_graph(path)
    in_degree = [0] * n
    out_degree = [0] * n
    ins = [[] for _ in range(n)]
    outs = [[] for _ in range(n)]
    for u, v in edges:
        in_degree[v] += 1
        out_degree[u] += 1
        outs[u].append(v)
        ins[v].append(u)
    outputs = [None] * n
    with net.scope(name):
        worklist = [u for u in range(n) if in_degree[u] == 0]
        while worklist:
            u = worklist.pop()
            if not ins[u]:
                outputs[u] = net.relu_sep_conv([[r]], ch, 3, 2, 1, name=f"node{u}")
            else:
                outputs[u] = net.relu_sep_conv([[outputs[p] for p in ins[u]]], ch, 3, 1, 1,
                                               name=f"node{u}")
            for v in outs[u]:
                in_degree[v] -= 1
                if in_degree[v] == 0:
                    worklist.append(v)
        return net.identity([[outputs[u] for u in range(n) if out_degree[u] == 0]], name="out")


def randwire(batch=1):
    ch = 154
    net = Net("randwire", batch, (3, 224, 224))
    net.block()
    v = net.conv(net.input, ch // 2, kernel=3, stride=2, padding=1, act="none", name="conv1")
    for i, fname in enumerate(STAGE_GRAPHS):
        v = _stage(net, v, ch << i, os.path.join(GRAPH_DIR, fname), f"stage{i + 1}")
    net.block()
    v = net.relu(v, name="relu")
    v = net.conv(v, 1280, kernel=1, act="none", name="conv2")
    v = net.pool(v, "global_avg", name="avgpool")
    return net.finish(v)
