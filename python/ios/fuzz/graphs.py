"""Random CNN DAGs for differential testing.

:func:`random_graph` builds, from a seed, a small :class:`ios.builder.Graph`
(a few to a few dozen ops on small tensors) that uses what the dialect
offers: convolutions with random kernels (also non-square), strides,
paddings, dilations, groups (depthwise too) and fused activations; branches
of convolutions that IOS-Both can merge (one input, one stride, centred
kernels); max / average pooling (padding, ``ceil_mode``,
``count_include_pad``), global pooling; every activation; element-wise
``add`` (also of several operands and broadcast from N x C x 1 x 1) and
``mul`` (a squeeze-and-excitation gate); ``concat``, ``slice``, ``pad``,
``upsample``, ``channel_shuffle``, ``affine``; sometimes a classifier head
(``flatten``, ``linear``, ``softmax``), a second input, several outputs,
multi-op scheduling units and part hints. Equal seeds give equal graphs.

    python3 -m ios.fuzz.graphs SEED [--ops N]   # prints the graph's MLIR
"""

import argparse
import sys

import numpy as np

from ios import cli
from ios.builder import ACTIVATIONS, BuildError, Graph


class _Gen:
    def __init__(self, seed, name, max_ops, batch):
        self.rng = np.random.default_rng([int(seed) & 0xFFFFFFFF, 0x10F])
        self.g = Graph(name, batch=batch)
        self.max_ops = max_ops
        self.values = []  # rank-4 values ops may read
        self.used = set()  # id() of values read by some op

    # -- random choices --------------------------------------------------

    def int(self, lo, hi):
        """Uniform in [lo, hi]."""
        return int(self.rng.integers(lo, hi + 1))

    def choice(self, seq):
        return seq[int(self.rng.integers(len(seq)))]

    def chance(self, p):
        return bool(self.rng.random() < p)

    def pick(self):
        """An operand: recent values more often (deep graphs), any value
        sometimes (long edges, fan-out)."""
        n = len(self.values)
        if self.chance(0.6):
            return self.values[n - 1 - min(n - 1, int(self.rng.geometric(0.5)) - 1)]
        return self.choice(self.values)

    def keep(self, v):
        self.values.append(v)
        return v

    def read(self, *vs):
        for v in vs:
            self.used.add(id(v))

    # -- ops ---------------------------------------------------------------

    def conv(self, x):
        n, cin, h, w = x.shape
        divisors = [d for d in range(1, cin + 1) if cin % d == 0]
        groups = 1 if self.chance(0.6) else self.choice(divisors)
        if groups == cin and self.chance(0.5):
            cout = cin  # depthwise
        else:
            cout = groups * self.int(1, max(1, 16 // groups))
        kh = self.choice((1, 1, 2, 3, 3, 5))
        kw = kh if self.chance(0.7) else self.choice((1, 2, 3, 5))
        dil = (1, 1) if self.chance(0.7) else (self.int(1, 2), self.int(1, 3))
        stride = (1, 1) if self.chance(0.6) else (self.int(1, 3), self.int(1, 3))
        pad = (self.int(0, kh), self.int(0, kw))
        y = self.g.conv2d(x, cout, kernel=(kh, kw), stride=stride, padding=pad,
                          dilation=dil, groups=groups, act=self.choice(ACTIVATIONS))
        self.read(x)
        return self.keep(y)

    def branches(self, x):
        """Convs on one input that an IOS-Both merge stage may compute as
        one: one stride, one activation, centred kernels, groups 1."""
        stride = self.choice((1, 1, 2))
        act = self.choice(ACTIVATIONS)
        outs = []
        for _ in range(self.int(2, 3)):
            k = self.choice((1, 3, 5))
            outs.append(self.keep(self.g.conv2d(
                x, self.int(1, 12), kernel=k, stride=stride, padding=k // 2, act=act)))
        self.read(x)
        if self.chance(0.5):
            self.read(*outs)
            return self.keep(self.g.concat(outs))
        return outs[-1]

    def pool(self, x):
        kind = self.choice(("max", "avg", "max", "avg", "global_avg", "global_max"))
        if kind.startswith("global"):
            y = self.g.pool2d(x, kind)
        else:
            k = (self.int(1, 3), self.int(1, 3))
            s = (self.int(1, 2), self.int(1, 2))
            p = (self.int(0, k[0] // 2), self.int(0, k[1] // 2))
            y = self.g.pool2d(x, kind, kernel=k, stride=s, padding=p,
                              ceil_mode=self.chance(0.3),
                              count_include_pad=kind == "max" or self.chance(0.5))
        self.read(x)
        return self.keep(y)

    def activation(self, x):
        y = self.g.activation(x, self.choice(ACTIVATIONS[1:]))
        self.read(x)
        return self.keep(y)

    def add(self, x):
        same = [v for v in self.values if v.shape == x.shape and v is not x]
        gates = [v for v in self.values
                 if v.shape == (x.shape[0], x.shape[1], 1, 1) and v is not x]
        if gates and self.chance(0.4):  # broadcast from N x C x 1 x 1
            y = self.g.add(x, self.choice(gates))
        elif same:
            others = [self.choice(same) for _ in range(self.int(1, 2))]
            y = self.g.add(x, *others)
        else:  # x + a projection of x: a residual connection
            p = self.g.conv2d(x, x.shape[1], kernel=3, padding=1,
                              act=self.choice(ACTIVATIONS))
            y = self.g.add(x, self.keep(p))
        self.read(*y.op.operands)
        return self.keep(y)

    def gate(self, x):
        """Squeeze and excitation: x * sigmoid(conv(relu(conv(gap(x)))))."""
        c = x.shape[1]
        s = self.g.pool2d(x, "global_avg")
        s = self.g.conv2d(s, max(1, c // 2), act="relu")
        s = self.g.conv2d(s, c, act=self.choice(("sigmoid", "hardsigmoid")))
        y = self.g.mul(x, s) if self.chance(0.7) else self.g.mul(s, x)
        self.read(x)
        return self.keep(y)

    def concat(self, x):
        n, _, h, w = x.shape
        same = [v for v in self.values if (v.shape[0], v.shape[2], v.shape[3]) == (n, h, w)]
        if len(same) < 2:
            return self.conv(x)
        xs = [x] + [self.choice(same) for _ in range(self.int(1, 2))]
        self.read(*xs)
        return self.keep(self.g.concat(xs))

    def slice(self, x):
        c = x.shape[1]
        if c < 2:
            return self.activation(x)
        begin = self.int(0, c - 2)
        end = self.int(begin + 1, c)
        self.read(x)
        return self.keep(self.g.slice(x, begin, end))

    def pad(self, x):
        pads = [self.int(0, 2) for _ in range(4)]
        value = float(self.choice((0.0, 0.0, -1.5, 0.25)))
        self.read(x)
        return self.keep(self.g.pad(x, pads, value=value))

    def upsample(self, x):
        _, _, h, w = x.shape
        sh = 2 if h <= 12 and self.chance(0.6) else 1
        sw = 2 if w <= 12 and self.chance(0.6) else 1
        self.read(x)
        return self.keep(self.g.upsample(x, (sh, sw)))

    def shuffle(self, x):
        c = x.shape[1]
        divisors = [d for d in range(2, c + 1) if c % d == 0]
        if not divisors:
            return self.activation(x)
        self.read(x)
        return self.keep(self.g.channel_shuffle(x, self.choice(divisors)))

    def affine(self, x):
        self.read(x)
        return self.keep(self.g.affine(x))

    OPS = (("conv", 6), ("branches", 2), ("pool", 2), ("activation", 1), ("add", 2),
           ("gate", 1), ("concat", 2), ("slice", 1), ("pad", 1), ("upsample", 1),
           ("shuffle", 1), ("affine", 1))

    def one_op(self):
        names = [n for n, _ in self.OPS]
        weights = np.array([w for _, w in self.OPS], dtype=float)
        name = names[int(self.rng.choice(len(names), p=weights / weights.sum()))]
        x = self.pick()
        # A unit of two ops now and then: the scheduler's Sequential.
        if name in ("conv", "activation") and self.chance(0.15):
            with self.g.unit("u"):
                y = getattr(self, name)(x)
                return self.activation(y)
        return getattr(self, name)(x)

    def build(self):
        g = self.g
        c, h, w = self.int(1, 8), self.int(4, 16), self.int(4, 16)
        self.keep(g.input((c, h, w)))
        if self.chance(0.15):  # a second input of the same spatial size
            self.keep(g.input((self.int(1, 6), h, w), name="input2"))
        if self.chance(0.2):
            g.next_part()
        target = self.int(2, self.max_ops)
        while len(g.ops) < target:
            if g.part is not None and self.chance(0.1):
                g.next_part()
            try:
                self.one_op()
            except BuildError:
                continue  # e.g. a window larger than the input: draw again
        # Every input is read; the values no op reads are the outputs.
        for arg in g.inputs:
            if id(arg.value) not in self.used:
                self.keep(g.activation(arg.value, "relu"))
                self.read(arg.value)
        sinks = [v for v in self.values if id(v) not in self.used and v.op is not None]
        if len(sinks) > 3:  # a few outputs; the rest joins through a concat
            sinks = self._join(sinks)
        if self.chance(0.25):
            head = self.choice(sinks)
            y = g.flatten(g.pool2d(head, "global_avg") if head.shape[2] * head.shape[3] > 16
                          else head)
            y = g.linear(y, self.int(2, 10))
            if self.chance(0.5):
                y = g.softmax(y)
            sinks = [y if v is head else v for v in sinks]
        g.output(*sinks)
        return g

    def _join(self, sinks):
        """Fewer outputs: sinks of one spatial size are concatenated."""
        by_size = {}
        for v in sinks:
            by_size.setdefault((v.shape[2], v.shape[3]), []).append(v)
        out = []
        for vs in by_size.values():
            out.append(self.g.concat(vs) if len(vs) > 1 else vs[0])
        return out[:3] if len(out) > 3 else out


def random_graph(seed, name=None, max_ops=24, batch=1):
    """The random graph of ``seed`` (a :class:`ios.builder.Graph` named
    ``name``, default ``r<seed>``) with up to about ``max_ops`` ops."""
    return _Gen(seed, name or f"r{int(seed)}", max_ops, batch).build()


def main(argv=None):
    p = argparse.ArgumentParser(prog=cli.prog("ios.fuzz.graphs"),
                                description="Print the random graph of a seed as MLIR.")
    p.add_argument("seed", type=int)
    p.add_argument("--ops", type=int, default=24, help="about this many ops at most (default 24)")
    p.add_argument("--batch", type=int, default=1, help="batch size (default 1)")
    args = p.parse_args(argv)
    if args.ops < 2:
        p.error("--ops must be at least 2")
    sys.stdout.write(random_graph(args.seed, max_ops=args.ops, batch=args.batch).to_mlir())
    return 0


if __name__ == "__main__":
    sys.exit(main())
