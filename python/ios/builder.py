"""A small builder for graphs of ``ios`` dialect ops, printed as textual MLIR.

Debian packages no MLIR Python bindings, so the frontend keeps its own tiny graph
representation and prints the textual form that ``ios-opt`` parses::

    from ios.builder import Graph

    g = Graph("tiny", batch=2)
    x = g.input((3, 32, 32))                      # per-sample C, H, W
    with g.scope("stem"):
        y = g.conv2d(x, 16, kernel=3, padding=1, act="relu")   # params stem.conv.*
    with g.unit("block"):                         # one scheduling unit
        z = g.relu(y)
        z = g.conv2d(z, 16, kernel=3, padding=1, groups=16, name="dw")
    g.output(g.pool2d(z, "global_avg"))
    print(g.to_mlir())

Conventions (see ``docs/Zoo.md``):

* Tensors are f32, NCHW, statically shaped; the batch is part of every type.
* Every parameter is a function argument ``{ios.param = "<op>.weight"}`` /
  ``"<op>.bias"``; op names are unique, so parameter names are too. The network
  input is an argument marked ``{ios.input}``.
* Ops created inside ``with g.unit(...)`` carry the same ``ios.unit`` name: the
  scheduler treats them as one scheduling unit (IOS's ``Sequential``). A unit of
  a single op carries no attribute (every op is its own unit by default).
* ``g.set_part(n)`` / ``g.next_part()`` make every following op carry
  ``ios.part = n``, the explicit partition hint of the scheduler.
* Every op prints a name location ``loc("<op name>")``.

The builder also tracks, for every value, an estimate of its second moment
``E[x^2]`` under random weights; parameters are initialised (He-style) so that
every convolution's pre-activation output has a second moment close to 1, which
keeps activations finite and of order one through deep networks
(:meth:`Graph.random_params`).
"""

import contextlib
import math
import re
import zlib

import numpy as np

ACTIVATIONS = ("none", "relu", "sigmoid", "tanh")
POOL_KINDS = ("max", "avg", "global_max", "global_avg")

# Second moment E[f(x)^2] of f(x) for x ~ N(0, 1): used to track activation
# scales through activations (relu halves it; tanh / sigmoid: numeric values).
_ACT_MOMENT = {"none": 1.0, "relu": 0.5, "tanh": 0.394, "sigmoid": 0.293}

# Second-moment factors E[y^2] / E[x^2] of pooling windows, measured with
# ios.reference on the activations of the randomly initialised zoo networks
# (activations deep in a network are spatially smooth, so a 3x3 average keeps
# most of the second moment). Only used to choose weight scales.
_POOL_FACTOR = {
    # (kind, input is non-negative) -> factor
    ("max", False): 1.3,
    ("max", True): 1.6,
    ("avg", False): 0.85,
    ("avg", True): 0.9,
}

_SSA_NAME_RE = re.compile(r"[^A-Za-z0-9_.$-]")


class BuildError(ValueError):
    """An op was given operands or attributes it cannot accept."""


def _pair(v, what):
    if isinstance(v, (int, np.integer)):
        return (int(v), int(v))
    try:
        t = tuple(int(x) for x in v)
    except TypeError:
        raise BuildError(f"{what} must be an int or a pair of ints, got {v!r}")
    if len(t) != 2:
        raise BuildError(f"{what} must be an int or a pair of ints, got {v!r}")
    return t


def tensor_type(shape):
    """MLIR spelling of an f32 tensor type, e.g. ``tensor<1x3x8x8xf32>``."""
    return "tensor<" + "".join(f"{d}x" for d in shape) + "f32>"


def _array(vals):
    return "array<i64: " + ", ".join(str(int(v)) for v in vals) + ">"


def _valid_fraction(size, kernel, stride, pad, dilation, out):
    """Mean fraction of a kernel's taps that fall inside the input (1-D)."""
    valid = 0
    for o in range(out):
        start = o * stride - pad
        for k in range(kernel):
            if 0 <= start + k * dilation < size:
                valid += 1
    return valid / float(out * kernel)


class Value:
    """An SSA value: a function argument or the result of an :class:`Op`.

    ``shape`` is the full tensor shape including the batch dimension.
    """

    __slots__ = ("graph", "shape", "op", "arg", "moment", "nonneg", "signature")

    def __init__(self, graph, shape, op=None, arg=None, moment=1.0, nonneg=False):
        self.graph = graph
        self.shape = tuple(int(d) for d in shape)
        self.op = op  # producing Op, or None for a function argument
        self.arg = arg  # the Argument, for function arguments
        self.moment = float(moment)  # estimated E[x^2] under random weights
        self.nonneg = bool(nonneg)  # known to be >= 0 (e.g. after relu)
        # Values with equal signatures are equal (the same parameter-free op on
        # equal inputs); used to estimate the moment of sums of such values.
        self.signature = id(self)

    @property
    def type(self):
        return tensor_type(self.shape)

    @property
    def rank(self):
        return len(self.shape)

    @property
    def channels(self):
        return self.shape[1]

    @property
    def name(self):
        return self.op.name if self.op is not None else self.arg.name

    def __repr__(self):
        return f"<Value {self.name}: {self.type}>"


class Argument:
    """A function argument: the network input or a parameter."""

    __slots__ = ("name", "shape", "is_input", "init", "value")

    def __init__(self, name, shape, is_input, init=None):
        self.name = name
        self.shape = tuple(int(d) for d in shape)
        self.is_input = is_input
        # Parameter initialisation: ("normal", std) or ("zeros",).
        self.init = init
        self.value = None

    @property
    def numel(self):
        return int(np.prod(self.shape, dtype=np.int64)) if self.shape else 1

    def __repr__(self):
        kind = "input" if self.is_input else "param"
        return f"<{kind} {self.name}: {tensor_type(self.shape)}>"


class Op:
    """One graph op: ``kind`` is the mnemonic without the ``ios.`` prefix."""

    __slots__ = ("kind", "name", "operands", "attrs", "result", "unit", "part", "index")

    def __init__(self, kind, name, operands, attrs, index):
        self.kind = kind
        self.name = name
        self.operands = list(operands)
        self.attrs = dict(attrs)
        self.result = None
        self.unit = None
        self.part = None
        self.index = index

    @property
    def mnemonic(self):
        return "ios." + self.kind

    @property
    def inputs(self):
        """Operands that are not parameters."""
        return [v for v in self.operands if v.arg is None or v.arg.is_input]

    @property
    def params(self):
        """Parameter arguments used by this op."""
        return [v.arg for v in self.operands if v.arg is not None and not v.arg.is_input]

    def macs(self):
        """Multiply-accumulates of a conv / linear op (0 for other ops)."""
        if self.kind == "conv2d":
            w = self.operands[1].shape
            return int(np.prod(self.result.shape, dtype=np.int64)) * w[1] * w[2] * w[3]
        if self.kind == "linear":
            return int(np.prod(self.result.shape, dtype=np.int64)) * self.operands[1].shape[1]
        return 0

    def __repr__(self):
        return f"<Op {self.mnemonic} {self.name} -> {self.result.type}>"


class Graph:
    """A function of graph-level ``ios`` ops under construction.

    Ops are recorded in creation order, which is a topological order. Op
    methods take and return :class:`Value` objects and check shapes like the
    dialect's verifiers do, raising :class:`BuildError` on mistakes.
    """

    def __init__(self, name, batch=1):
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_$.]*", name):
            raise BuildError(f"invalid function name {name!r}")
        batch = int(batch)
        if batch < 1:
            raise BuildError(f"batch size must be a positive integer, got {batch}")
        self.name = name
        self.batch = batch
        self.args = []  # Arguments in signature order (input first)
        self.ops = []
        self.outputs = []
        self._names = set()
        self._scopes = []
        self._unit = None  # [unit name, ops] of the innermost open unit
        self._unit_names = set()
        self.part = None  # part index given to new ops

    # -- naming, units and parts ---------------------------------------------

    def _unique(self, name):
        base = name
        i = 1
        while name in self._names:
            name = f"{base}_{i}"
            i += 1
        self._names.add(name)
        return name

    def _qualify(self, name):
        return ".".join(self._scopes + [name])

    @contextlib.contextmanager
    def scope(self, name):
        """Prefix the names of ops created inside with ``name.``."""
        self._scopes.append(name)
        try:
            yield
        finally:
            self._scopes.pop()

    @contextlib.contextmanager
    def unit(self, name):
        """Group the ops created inside into one scheduling unit.

        The unit is named like an op (``name`` qualified by the enclosing scopes
        and made unique) and also opens a name scope. A unit nested in another
        unit adds its ops to the outer unit. A unit that ends up holding a single
        op carries no ``ios.unit`` attribute.
        """
        if self._unit is not None:
            with self.scope(name):
                yield self._unit[0]
            return
        uname = self._qualify(name)
        base, i = uname, 1
        while uname in self._unit_names or uname in self._names:
            uname = f"{base}_{i}"
            i += 1
        self._unit_names.add(uname)
        self._names.add(uname)
        record = [uname, []]
        self._unit = record
        saved = self._scopes
        self._scopes = uname.split(".")
        try:
            yield uname
        finally:
            self._scopes = saved
            self._unit = None
            if len(record[1]) == 1:
                record[1][0].unit = None

    def set_part(self, index):
        """Give every op created from now on ``ios.part = index`` (None: no hint)."""
        if index is not None and (int(index) != index or index < 0):
            raise BuildError(f"part index must be a non-negative integer, got {index!r}")
        self.part = None if index is None else int(index)

    def next_part(self):
        """Start a new part (0 for the first call) and return its index."""
        self.part = 0 if self.part is None else self.part + 1
        return self.part

    # -- arguments --------------------------------------------------------------

    def input(self, shape, name="input"):
        """Add the network input; ``shape`` is per sample (batch is prepended)."""
        if any(a.is_input for a in self.args):
            raise BuildError("the graph already has an input")
        shape = (self.batch,) + tuple(int(d) for d in shape)
        if any(d <= 0 for d in shape):
            raise BuildError(f"input shape must be positive, got {shape}")
        arg = Argument(self._unique(name), shape, is_input=True)
        arg.value = Value(self, shape, arg=arg, moment=1.0)
        self.args.insert(0, arg)
        return arg.value

    def param(self, name, shape, init=("zeros",)):
        """Add a parameter argument ``{ios.param = name}`` (name used as given)."""
        if name in self._names:
            raise BuildError(f"duplicate name {name!r}")
        self._names.add(name)
        arg = Argument(name, shape, is_input=False, init=init)
        arg.value = Value(self, shape, arg=arg)
        self.args.append(arg)
        return arg.value

    @property
    def params(self):
        return [a for a in self.args if not a.is_input]

    @property
    def input_arg(self):
        for a in self.args:
            if a.is_input:
                return a
        return None

    # -- op creation ------------------------------------------------------------

    def _check(self, v, rank=None, what="operand"):
        if not isinstance(v, Value) or v.graph is not self:
            raise BuildError(f"{what} must be a Value of graph {self.name!r}, got {v!r}")
        if rank is not None and v.rank != rank:
            raise BuildError(f"{what} must be a rank-{rank} tensor, got {v.type}")

    def _op(self, kind, default_name, operands, attrs, shape, name, moment, nonneg):
        opname = self._unique(self._qualify(name or default_name))
        op = Op(kind, opname, operands, attrs, len(self.ops))
        op.result = Value(self, shape, op=op, moment=moment, nonneg=nonneg)
        if kind not in ("conv2d", "linear"):
            op.result.signature = (kind, tuple(sorted(attrs.items())),
                                   tuple(v.signature for v in operands))
        op.part = self.part
        if self._unit is not None:
            op.unit = self._unit[0]
            self._unit[1].append(op)
        self.ops.append(op)
        return op

    def conv2d(self, x, out_channels, kernel=1, stride=1, padding=0, dilation=1,
               groups=1, act="none", name=None):
        """2-D convolution with bias and fused activation.

        Creates parameters ``<name>.weight`` (OIHW) and ``<name>.bias``.
        ``padding`` is symmetric ``(pad_h, pad_w)``.
        """
        self._check(x, 4, "conv2d input")
        kh, kw = _pair(kernel, "kernel")
        sh, sw = _pair(stride, "stride")
        ph, pw = _pair(padding, "padding")
        dh, dw = _pair(dilation, "dilation")
        groups = int(groups)
        out_channels = int(out_channels)
        n, cin, h, w = x.shape
        if act not in ACTIVATIONS:
            raise BuildError(f"unknown activation {act!r}; expected one of {ACTIVATIONS}")
        if min(kh, kw, sh, sw, dh, dw, groups, out_channels) < 1 or min(ph, pw) < 0:
            raise BuildError("conv2d: kernel, stride, dilation, groups and channels must be "
                             "positive and padding non-negative")
        if cin % groups or out_channels % groups:
            raise BuildError(f"conv2d: groups={groups} must divide input channels {cin} "
                             f"and output channels {out_channels}")
        ho = (h + 2 * ph - dh * (kh - 1) - 1) // sh + 1
        wo = (w + 2 * pw - dw * (kw - 1) - 1) // sw + 1
        if ho < 1 or wo < 1:
            raise BuildError(f"conv2d: kernel {kh}x{kw} does not fit input {h}x{w} "
                             f"with padding {ph}x{pw}")
        fan_in = (cin // groups) * kh * kw
        frac = (_valid_fraction(h, kh, sh, ph, dh, ho) *
                _valid_fraction(w, kw, sw, pw, dw, wo))
        std = math.sqrt(1.0 / (fan_in * max(x.moment, 1e-12) * frac))
        op = self._op("conv2d", "conv", [x], {
            "strides": (sh, sw), "padding": (ph, pw), "dilations": (dh, dw),
            "groups": groups, "act": act,
        }, (n, out_channels, ho, wo), name, _ACT_MOMENT[act], act in ("relu", "sigmoid"))
        wv = self.param(op.name + ".weight", (out_channels, cin // groups, kh, kw),
                        ("normal", std))
        bv = self.param(op.name + ".bias", (out_channels,), ("normal", 0.01))
        op.operands += [wv, bv]
        return op.result

    def pool2d(self, x, kind, kernel=None, stride=None, padding=0, name=None):
        """Pooling: ``max`` / ``avg`` windows (avg counts padding) or ``global_*``.

        ``stride`` defaults to ``kernel``; global kinds take no window.
        """
        self._check(x, 4, "pool2d input")
        if kind not in POOL_KINDS:
            raise BuildError(f"unknown pool kind {kind!r}; expected one of {POOL_KINDS}")
        n, c, h, w = x.shape
        if kind.startswith("global"):
            if kernel is not None or stride is not None or padding not in (0, (0, 0)):
                raise BuildError(f"{kind} pooling takes no kernel, stride or padding")
            attrs = {}
            shape = (n, c, 1, 1)
            moment = x.moment if kind == "global_max" else (
                x.moment * 0.5 if x.nonneg else x.moment * 0.05)
        else:
            if kernel is None:
                raise BuildError(f"{kind} pooling needs a kernel")
            kh, kw = _pair(kernel, "kernel")
            sh, sw = _pair(kernel if stride is None else stride, "stride")
            ph, pw = _pair(padding, "padding")
            if min(kh, kw, sh, sw) < 1 or min(ph, pw) < 0:
                raise BuildError("pool2d: kernel and stride must be positive, padding >= 0")
            if ph > kh // 2 or pw > kw // 2:
                raise BuildError(f"pool2d: padding {ph}x{pw} exceeds half the kernel {kh}x{kw}")
            ho = (h + 2 * ph - kh) // sh + 1
            wo = (w + 2 * pw - kw) // sw + 1
            if ho < 1 or wo < 1:
                raise BuildError(f"pool2d: kernel {kh}x{kw} does not fit input {h}x{w}")
            attrs = {"kernel": (kh, kw), "strides": (sh, sw), "padding": (ph, pw)}
            shape = (n, c, ho, wo)
            moment = x.moment * _POOL_FACTOR[(kind, x.nonneg)]
            if kind == "avg":
                moment *= (_valid_fraction(h, kh, sh, ph, 1, ho) *
                           _valid_fraction(w, kw, sw, pw, 1, wo)) ** 2
        attrs = dict(attrs, kind=kind)
        op = self._op("pool2d", kind.replace("global_", "global") + "pool", [x], attrs,
                      shape, name, moment, x.nonneg)
        return op.result

    def activation(self, x, kind, name=None):
        """Element-wise ``relu`` / ``sigmoid`` / ``tanh``."""
        self._check(x, None, "activation input")
        if kind not in ACTIVATIONS or kind == "none":
            raise BuildError(f"unknown activation {kind!r}; expected relu, sigmoid or tanh")
        if kind == "relu":
            moment, nonneg = (x.moment, True) if x.nonneg else (x.moment * 0.5, True)
        else:
            moment, nonneg = _ACT_MOMENT[kind], kind == "sigmoid"
        op = self._op("activation", kind, [x], {"kind": kind}, x.shape, name, moment, nonneg)
        return op.result

    def relu(self, x, name=None):
        return self.activation(x, "relu", name)

    def sigmoid(self, x, name=None):
        return self.activation(x, "sigmoid", name)

    def tanh(self, x, name=None):
        return self.activation(x, "tanh", name)

    def add(self, *xs, name=None):
        """n-ary (>= 2) element-wise sum of values of identical type."""
        if len(xs) == 1 and isinstance(xs[0], (list, tuple)):
            xs = tuple(xs[0])
        if len(xs) < 2:
            raise BuildError("add needs at least two operands")
        for v in xs:
            self._check(v, None, "add operand")
            if v.shape != xs[0].shape:
                raise BuildError(f"add operands must have identical types: {xs[0].type} vs {v.type}")
        # Independent zero-mean terms add their moments; equal values add coherently.
        groups = {}
        for v in xs:
            groups.setdefault(v.signature, []).append(v)
        moment = sum(len(g) ** 2 * g[0].moment for g in groups.values())
        # Non-negative terms (relu outputs, E[x] ~ sqrt(E[x^2] / pi)) also add
        # their means: cross terms 2 E[a] E[b].
        pos = [(len(g), g[0].moment) for g in groups.values() if g[0].nonneg]
        for i in range(len(pos)):
            for j in range(i + 1, len(pos)):
                moment += 2 * pos[i][0] * pos[j][0] * math.sqrt(pos[i][1] * pos[j][1]) / math.pi
        op = self._op("add", "add", xs, {}, xs[0].shape, name, moment,
                      all(v.nonneg for v in xs))
        return op.result

    def mul(self, a, b, name=None):
        """Element-wise product of two values of identical type."""
        self._check(a, None, "mul operand")
        self._check(b, None, "mul operand")
        if a.shape != b.shape:
            raise BuildError(f"mul operands must have identical types: {a.type} vs {b.type}")
        op = self._op("mul", "mul", [a, b], {}, a.shape, name, a.moment * b.moment,
                      a.nonneg and b.nonneg)
        return op.result

    def concat(self, xs, name=None):
        """Concatenation of >= 2 NCHW values along channels."""
        xs = list(xs)
        if len(xs) < 2:
            raise BuildError("concat needs at least two operands")
        for v in xs:
            self._check(v, 4, "concat operand")
            if (v.shape[0], v.shape[2], v.shape[3]) != (xs[0].shape[0], xs[0].shape[2], xs[0].shape[3]):
                raise BuildError(f"concat operands must agree in batch and spatial size: "
                                 f"{xs[0].type} vs {v.type}")
        c = sum(v.channels for v in xs)
        moment = sum(v.moment * v.channels for v in xs) / c
        n, _, h, w = xs[0].shape
        op = self._op("concat", "concat", xs, {}, (n, c, h, w), name, moment,
                      all(v.nonneg for v in xs))
        return op.result

    def slice(self, x, begin, end, name=None):
        """Channels ``[begin, end)`` of an NCHW value."""
        self._check(x, 4, "slice input")
        begin, end = int(begin), int(end)
        if not 0 <= begin < end <= x.channels:
            raise BuildError(f"slice [{begin}:{end}] out of range for {x.channels} channels")
        n, _, h, w = x.shape
        op = self._op("slice", "slice", [x], {"begin": begin, "end": end},
                      (n, end - begin, h, w), name, x.moment, x.nonneg)
        return op.result

    def flatten(self, x, name=None):
        """NCHW to N x (C*H*W)."""
        self._check(x, 4, "flatten input")
        n, c, h, w = x.shape
        op = self._op("flatten", "flatten", [x], {}, (n, c * h * w), name, x.moment, x.nonneg)
        return op.result

    def linear(self, x, out_features, name=None):
        """Fully connected layer; creates ``<name>.weight`` (M x K) and ``.bias``."""
        self._check(x, 2, "linear input")
        n, k = x.shape
        m = int(out_features)
        if m < 1:
            raise BuildError("linear: out_features must be positive")
        std = math.sqrt(1.0 / (k * max(x.moment, 1e-12)))
        op = self._op("linear", "fc", [x], {}, (n, m), name, 1.0, False)
        wv = self.param(op.name + ".weight", (m, k), ("normal", std))
        bv = self.param(op.name + ".bias", (m,), ("normal", 0.01))
        op.operands += [wv, bv]
        return op.result

    def softmax(self, x, name=None):
        """Softmax over the last axis of an N x M value."""
        self._check(x, 2, "softmax input")
        op = self._op("softmax", "softmax", [x], {}, x.shape, name,
                      1.0 / x.shape[1] ** 2, True)
        return op.result

    def terms(self, terms, name="identity"):
        """IOS input semantics: sum the values of each term, concat the terms.

        ``terms`` is a list of lists of values (IOS's ``inputs``). Returns the
        value itself for ``[[v]]``; otherwise the ``ios.add`` ops (one per term
        with several values) and the ``ios.concat`` (if several terms) form one
        scheduling unit named ``name``.
        """
        terms = [list(t) for t in terms]
        if not terms or any(not t for t in terms):
            raise BuildError("terms: every term needs at least one value")
        nops = sum(1 for t in terms if len(t) > 1) + (1 if len(terms) > 1 else 0)
        if nops == 0:
            return terms[0][0]
        if nops == 1:
            if len(terms) == 1:
                return self.add(*terms[0], name=name)
            return self.concat([t[0] for t in terms], name=name)
        with self.unit(name):
            parts = [self.add(*t, name=f"add{i}") if len(t) > 1 else t[0]
                     for i, t in enumerate(terms)]
            return self.concat(parts, name="concat")

    def output(self, *values):
        """Set the function results (in order)."""
        if not values:
            raise BuildError("output needs at least one value")
        for v in values:
            self._check(v, None, "output")
        self.outputs = list(values)

    # -- queries ----------------------------------------------------------------

    def units(self):
        """Scheduling units in creation order: lists of ops."""
        result, index = [], {}
        for op in self.ops:
            if op.unit is None:
                result.append([op])
            elif op.unit in index:
                result[index[op.unit]].append(op)
            else:
                index[op.unit] = len(result)
                result.append([op])
        return result

    def parts(self):
        """Distinct ``ios.part`` indices in use (sorted)."""
        return sorted({op.part for op in self.ops if op.part is not None})

    def num_param_scalars(self):
        return sum(a.numel for a in self.params)

    def stats(self):
        """Op, unit, part and parameter counts as a dict."""
        kinds = {}
        for op in self.ops:
            key = op.mnemonic
            if op.kind in ("pool2d", "activation"):
                key += " " + op.attrs["kind"]
            kinds[key] = kinds.get(key, 0) + 1
        by_mnemonic = {}
        for op in self.ops:
            by_mnemonic[op.mnemonic] = by_mnemonic.get(op.mnemonic, 0) + 1
        units = self.units()
        return {
            "name": self.name,
            "batch": self.batch,
            "ops": len(self.ops),
            "ops_by_mnemonic": dict(sorted(by_mnemonic.items())),
            "ops_by_kind": dict(sorted(kinds.items())),
            "units": len(units),
            "multi_op_units": sum(1 for u in units if len(u) > 1),
            "parts": len(self.parts()),
            "param_tensors": len(self.params),
            "param_scalars": self.num_param_scalars(),
            "macs": sum(op.macs() for op in self.ops),
        }

    # -- parameters -------------------------------------------------------------

    def random_params(self, seed=0):
        """Seeded random parameters: ``{name: float32 ndarray}``.

        A parameter's values depend only on ``seed``, its name and its shape
        (not on the other parameters). Conv / linear weights are normal with the
        He-style std chosen at construction (pre-activation second moment ~ 1);
        biases are normal with std 0.01.
        """
        out = {}
        for a in self.params:
            rng = np.random.default_rng([int(seed) & 0xFFFFFFFF, zlib.crc32(a.name.encode())])
            if a.init[0] == "normal":
                t = rng.standard_normal(a.shape, dtype=np.float32)
                t *= np.float32(a.init[1])
            elif a.init[0] == "zeros":
                t = np.zeros(a.shape, np.float32)
            else:
                raise BuildError(f"unknown initialiser {a.init!r}")
            out[a.name] = t
        return out

    # -- printing ---------------------------------------------------------------

    @staticmethod
    def _ssa_arg(name):
        s = _SSA_NAME_RE.sub("_", name)
        if not re.match(r"[A-Za-z_]", s):
            s = "_" + s
        return "%" + s

    def to_mlir(self, locations=True):
        """The function as textual MLIR, wrapped in nothing (a module is implicit)."""
        if not self.outputs:
            raise BuildError("graph has no outputs: call output() first")
        if self.input_arg is None:
            raise BuildError("graph has no input")
        names = {}
        used = set()
        sig = []
        for a in self.args:
            ssa = self._ssa_arg(a.name)
            base, i = ssa, 1
            while ssa in used:
                ssa = f"{base}_{i}"
                i += 1
            used.add(ssa)
            names[id(a.value)] = ssa
            attr = "{ios.input}" if a.is_input else '{ios.param = "%s"}' % a.name
            sig.append(f"{ssa}: {tensor_type(a.shape)} {attr}")
        lines = []
        res_types = ", ".join(v.type for v in self.outputs)
        if len(self.outputs) > 1:
            res_types = "(" + res_types + ")"
        lines.append(f"func.func @{self.name}(" + ",\n    ".join(sig) + f") -> {res_types} {{")
        for i, op in enumerate(self.ops):
            names[id(op.result)] = f"%{i}"
            lines.append("  " + self._print_op(op, names, f"%{i}", locations))
        lines.append("  return " + ", ".join(names[id(v)] for v in self.outputs) +
                     " : " + ", ".join(v.type for v in self.outputs))
        lines.append("}")
        return "\n".join(lines) + "\n"

    @staticmethod
    def _attr_dict(items, op):
        items = list(items)
        if op.unit is not None:
            items.append(f'ios.unit = "{op.unit}"')
        if op.part is not None:
            items.append(f"ios.part = {op.part} : i64")
        return (" {" + ", ".join(items) + "}") if items else ""

    def _print_op(self, op, names, res, locations):
        operands = ", ".join(names[id(v)] for v in op.operands)
        a = op.attrs
        rt = op.result.type
        if op.kind == "conv2d":
            attrs = [f"strides = {_array(a['strides'])}", f"padding = {_array(a['padding'])}",
                     f"dilations = {_array(a['dilations'])}", f"groups = {a['groups']} : i64",
                     f"act = #ios.act<{a['act']}>"]
            text = (f"{res} = ios.conv2d {operands}{self._attr_dict(attrs, op)} : "
                    f"({', '.join(v.type for v in op.operands)}) -> {rt}")
        elif op.kind == "linear":
            text = (f"{res} = ios.linear {operands}{self._attr_dict([], op)} : "
                    f"({', '.join(v.type for v in op.operands)}) -> {rt}")
        elif op.kind == "pool2d":
            attrs = [] if a["kind"].startswith("global") else [
                f"kernel = {_array(a['kernel'])}", f"strides = {_array(a['strides'])}",
                f"padding = {_array(a['padding'])}"]
            text = (f"{res} = ios.pool2d {a['kind']} {operands}{self._attr_dict(attrs, op)} : "
                    f"{op.operands[0].type} -> {rt}")
        elif op.kind == "activation":
            text = f"{res} = ios.activation {a['kind']} {operands}{self._attr_dict([], op)} : {rt}"
        elif op.kind in ("add", "softmax"):
            text = f"{res} = ios.{op.kind} {operands}{self._attr_dict([], op)} : {rt}"
        elif op.kind == "mul":
            text = f"{res} = ios.mul {operands}{self._attr_dict([], op)} : {rt}"
        elif op.kind == "concat":
            text = (f"{res} = ios.concat {operands}{self._attr_dict([], op)} : "
                    f"({', '.join(v.type for v in op.operands)}) -> {rt}")
        elif op.kind == "slice":
            text = (f"{res} = ios.slice {operands}[{a['begin']}:{a['end']}]"
                    f"{self._attr_dict([], op)} : {op.operands[0].type} -> {rt}")
        elif op.kind == "flatten":
            text = f"{res} = ios.flatten {operands}{self._attr_dict([], op)} : {op.operands[0].type} -> {rt}"
        else:  # pragma: no cover - every kind is handled above
            raise BuildError(f"cannot print op kind {op.kind!r}")
        if locations:
            text += f' loc("{op.name}")'
        return text
