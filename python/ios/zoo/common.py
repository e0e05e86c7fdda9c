"""IOS's graph-building vocabulary on top of :class:`ios.builder.Graph`.

IOS (``python/ios/models/common.py`` of the reference implementation) builds
networks from *nodes* whose input is a list of *terms*: the values of a term are
summed element-wise, the terms are concatenated along channels. Compound nodes
(``Sequential``: SepConv, ReluSepConv, ReluConv) run several primitive ops as
one scheduling unit. :class:`Net` offers the same node constructors; each call
creates exactly one scheduling unit of the emitted ``ios`` graph:

* the ``ios.add`` / ``ios.concat`` ops that materialise the node's input terms
  join the node's unit (e.g. RandWire's input sum + relu + depthwise conv +
  pointwise conv are one unit);
* an :meth:`Net.identity` node (IOS's concat / sum operator) is the adds of its
  terms plus the concat, as one unit.

So the number of scheduling units of the emitted function equals the number of
operators the IOS optimizer sees. :meth:`Net.block` starts a new IOS block (or
NasNet cell): every op gets ``ios.part`` = the index of its block / cell, the
partition IOS solves independently.
"""

from ios.builder import Graph


class Net:
    """A :class:`Graph` plus IOS-style node constructors.

    ``inputs`` arguments are IOS terms: a list of lists of values; a bare
    value ``v`` is accepted for ``[[v]]``.
    """

    def __init__(self, name, batch, input_shape):
        self.g = Graph(name, batch)
        self.input = self.g.input(input_shape)
        self.nodes = 0  # IOS operators (scheduling units) created so far

    # -- structure ----------------------------------------------------------

    def block(self):
        """Start a new IOS block / part; returns its index."""
        return self.g.next_part()

    def scope(self, name):
        return self.g.scope(name)

    @staticmethod
    def _terms(inputs):
        if not isinstance(inputs, (list, tuple)):
            return [[inputs]]
        return [list(t) for t in inputs]

    @staticmethod
    def _single(inputs):
        """The value of ``[[v]]`` (or a bare value), else None."""
        if not isinstance(inputs, (list, tuple)):
            return inputs
        if len(inputs) == 1 and len(inputs[0]) == 1:
            return inputs[0][0]
        return None

    def _node(self, name):
        self.nodes += 1
        return self.g.unit(name)

    # -- nodes (one scheduling unit each) ---------------------------------------

    def conv(self, inputs, out_channels, kernel=1, stride=1, padding=0, groups=1,
             act="relu", name="conv"):
        """IOS ``conv2d``: a convolution with fused activation (default relu)."""
        v = self._single(inputs)
        if v is not None:
            self.nodes += 1
            return self.g.conv2d(v, out_channels, kernel, stride, padding, groups=groups,
                                 act=act, name=name)
        with self._node(name):
            x = self.g.terms(self._terms(inputs), name="input")
            return self.g.conv2d(x, out_channels, kernel, stride, padding, groups=groups,
                                 act=act, name="conv")

    def pool(self, inputs, kind, kernel=None, stride=None, padding=0, name="pool"):
        """IOS ``pool2d``: ``max`` / ``avg`` / ``global_avg`` / ``global_max``."""
        v = self._single(inputs)
        if v is not None:
            self.nodes += 1
            return self.g.pool2d(v, kind, kernel, stride, padding, name=name)
        with self._node(name):
            x = self.g.terms(self._terms(inputs), name="input")
            return self.g.pool2d(x, kind, kernel, stride, padding, name="pool")

    def relu(self, inputs, name="relu"):
        """IOS ``relu``."""
        v = self._single(inputs)
        if v is not None:
            self.nodes += 1
            return self.g.relu(v, name=name)
        with self._node(name):
            x = self.g.terms(self._terms(inputs), name="input")
            return self.g.relu(x, name="relu")

    def identity(self, inputs, name="out"):
        """IOS ``identity``: sum within terms, concat across terms (one unit)."""
        terms = self._terms(inputs)
        self.nodes += 1
        if len(terms) == 1 and len(terms[0]) == 1:
            # IOS's identity of one value is an alias (no kernel), but it is an
            # operator of the DP (RandWire's first stage ends in one). Keep it as
            # a full-range channel slice: a view, and one scheduling unit.
            v = terms[0][0]
            return self.g.slice(v, 0, v.channels, name=name)
        return self.g.terms(terms, name=name)

    def sep_conv(self, inputs, out_channels, kernel, stride, padding, name="sep_conv"):
        """IOS ``sep_conv``: [depthwise kxk conv, pointwise 1x1 conv], no activations."""
        with self._node(name):
            x = self.g.terms(self._terms(inputs), name="input")
            c = x.channels
            x = self.g.conv2d(x, c, kernel, stride, padding, groups=c, name="dw")
            return self.g.conv2d(x, out_channels, 1, name="pw")

    def relu_sep_conv(self, inputs, out_channels, kernel, stride, padding, name="relu_sep_conv"):
        """IOS ``relu_sep_conv``: [relu, depthwise kxk conv, pointwise 1x1 conv]."""
        with self._node(name):
            x = self.g.terms(self._terms(inputs), name="input")
            c = x.channels
            x = self.g.relu(x, name="relu")
            x = self.g.conv2d(x, c, kernel, stride, padding, groups=c, name="dw")
            return self.g.conv2d(x, out_channels, 1, name="pw")

    def relu_conv(self, inputs, out_channels, kernel=1, stride=1, padding=0, groups=1,
                  name="relu_conv"):
        """IOS ``relu_conv``: [relu, conv (no activation)]."""
        with self._node(name):
            x = self.g.terms(self._terms(inputs), name="input")
            x = self.g.relu(x, name="relu")
            return self.g.conv2d(x, out_channels, kernel, stride, padding, groups=groups,
                                 name="conv")

    def finish(self, *outputs):
        """Set the outputs and return the graph."""
        self.g.output(*outputs)
        return self.g
