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

ACTIVATIONS = ("none", "relu", "sigmoid", "tanh", "relu6", "hardsigmoid", "hardswish",
               "silu")
# Activations whose result is never negative.
_NONNEG_ACTS = ("relu", "sigmoid", "relu6", "hardsigmoid")
POOL_KINDS = ("max", "avg", "global_max", "global_avg")
UPSAMPLE_MODES = ("nearest",)

# Second moment E[f(x)^2] of f(x) for x ~ N(0, 1): used to track activation
# scales through activations (relu halves it; the others: numeric values).
_ACT_MOMENT = {"none": 1.0, "relu": 0.5, "tanh": 0.394, "sigmoid": 0.293, "relu6": 0.5,
               "hardsigmoid": 0.278, "hardswish": 0.333, "silu": 0.355}

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


def float_literal(v):
    """MLIR spelling of an f32 value: always with a ``.`` (``0.0``, ``-3.40282347e+38``),
    9 significant digits, so the f32 value round-trips exactly."""
    f = float(np.float32(v))
    if not math.isfinite(f):
        raise BuildError(f"{v!r} is not a finite f32 value")
    s = "%.9g" % f
    mantissa, e, exp = s.partition("e")
    if "." not in mantissa:
        mantissa += ".0"
    return mantissa + e + exp


def string_literal(text):
    """MLIR string literal (quotes and backslashes escaped)."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def pool_output_size(size, kernel, stride, pad, ceil_mode=False):
    """Windowed pooling output size (PyTorch's rule): with ``ceil_mode`` the
    last window may run past the input, but must start inside the input or the
    left padding."""
    span = size + 2 * pad - kernel
    if not ceil_mode:
        return span // stride + 1
    out = -(-span // stride) + 1
    if (out - 1) * stride >= size + pad:
        out -= 1
    return out


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
        self._names = set()  # op and unit names
        self._param_names = set()
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

    def input(self, shape, name="input", full=False):
        """Add a network input; ``shape`` is per sample (the batch is prepended)
        unless ``full`` (then it is the whole shape and its first dimension must
        be the graph's batch). Inputs come first in the signature, in creation
        order."""
        shape = tuple(int(d) for d in shape)
        if full:
            if not shape or shape[0] != self.batch:
                raise BuildError(f"input {name!r}: shape {list(shape)} does not start with "
                                 f"the batch size {self.batch}")
        else:
            shape = (self.batch,) + shape
        if any(d <= 0 for d in shape):
            raise BuildError(f"input shape must be positive, got {shape}")
        arg = Argument(self._unique(name), shape, is_input=True)
        arg.value = Value(self, shape, arg=arg, moment=1.0)
        self.args.insert(len(self.inputs), arg)
        return arg.value

    def param(self, name, shape, init=("zeros",)):
        """Add a parameter argument ``{ios.param = name}`` (name used as given)."""
        if name in self._param_names:
            raise BuildError(f"duplicate parameter name {name!r}")
        self._param_names.add(name)
        arg = Argument(name, shape, is_input=False, init=init)
        arg.value = Value(self, shape, arg=arg)
        self.args.append(arg)
        return arg.value

    @property
    def params(self):
        return [a for a in self.args if not a.is_input]

    @property
    def inputs(self):
        """The input arguments, in signature order."""
        return [a for a in self.args if a.is_input]

    @property
    def input_arg(self):
        """The first input argument (the only one of a zoo network)."""
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
        if kind not in ("conv2d", "linear", "affine"):
            op.result.signature = (kind, tuple(sorted(attrs.items())),
                                   tuple(v.signature for v in operands))
        op.part = self.part
        if self._unit is not None:
            op.unit = self._unit[0]
            self._unit[1].append(op)
        self.ops.append(op)
        return op

    def _check_param(self, v, shape, what):
        """``v`` must be a parameter of this graph with the given shape."""
        if not isinstance(v, Value) or v.graph is not self or v.arg is None or v.arg.is_input:
            raise BuildError(f"{what} must be a parameter of graph {self.name!r}, got {v!r}")
        if v.shape != tuple(shape):
            raise BuildError(f"{what} {v.arg.name!r} has shape {list(v.shape)}, "
                             f"expected {list(shape)}")

    def _out_count(self, kind, what, count, weight, bias, rank):
        """Output channels / features: ``count``, or the given weight's first
        dimension (both weight and bias parameters, or neither)."""
        if (weight is None) != (bias is None):
            raise BuildError(f"{kind}: give both weight and bias parameters or neither")
        if weight is None:
            if count is None:
                raise BuildError(f"{kind} needs {what} or a weight parameter")
            return count
        self._check(weight, rank, f"{kind} weight")
        if count is not None and int(count) != weight.shape[0]:
            raise BuildError(f"{kind}: {what}={count} but the weight has {weight.shape[0]} "
                             f"output channels")
        return weight.shape[0]

    def conv2d(self, x, out_channels=None, kernel=1, stride=1, padding=0, dilation=1,
               groups=1, act="none", name=None, weight=None, bias=None):
        """2-D convolution with bias and fused activation.

        Creates parameters ``<name>.weight`` (OIHW) and ``<name>.bias``, or uses
        the given ``weight`` and ``bias`` parameters (then ``out_channels`` and
        ``kernel`` come from the weight's shape). ``padding`` is symmetric
        ``(pad_h, pad_w)``.
        """
        self._check(x, 4, "conv2d input")
        out_channels = self._out_count("conv2d", "out_channels", out_channels, weight, bias, 4)
        if weight is not None:
            kernel = weight.shape[2:]
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
        if weight is not None:
            self._check_param(weight, (out_channels, cin // groups, kh, kw), "conv2d weight")
            self._check_param(bias, (out_channels,), "conv2d bias")
        ho = (h + 2 * ph - dh * (kh - 1) - 1) // sh + 1
        wo = (w + 2 * pw - dw * (kw - 1) - 1) // sw + 1
        if ho < 1 or wo < 1:
            raise BuildError(f"conv2d: kernel {kh}x{kw} does not fit input {h}x{w} "
                             f"with padding {ph}x{pw}")
        fan_in = (cin // groups) * kh * kw
        frac = (_valid_fraction(h, kh, sh, ph, dh, ho) *
                _valid_fraction(w, kw, sw, pw, dw, wo))
        # frac is 0 when every tap lies in the padding (the output is the
        # bias): any weight scale will do.
        std = math.sqrt(1.0 / (fan_in * max(x.moment, 1e-12) * (frac or 1.0)))
        op = self._op("conv2d", "conv", [x], {
            "strides": (sh, sw), "padding": (ph, pw), "dilations": (dh, dw),
            "groups": groups, "act": act,
        }, (n, out_channels, ho, wo), name, _ACT_MOMENT[act], act in _NONNEG_ACTS)
        if weight is None:
            weight = self.param(op.name + ".weight", (out_channels, cin // groups, kh, kw),
                                ("normal", std))
            bias = self.param(op.name + ".bias", (out_channels,), ("normal", 0.01))
        op.operands += [weight, bias]
        return op.result

    def pool2d(self, x, kind, kernel=None, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True, name=None):
        """Pooling: ``max`` / ``avg`` windows or ``global_*``.

        ``stride`` defaults to ``kernel``; global kinds take no window.
        ``ceil_mode`` rounds the output size up (PyTorch's rule, see
        :func:`pool_output_size`); ``count_include_pad=False`` makes ``avg``
        divide by the taps inside the input only.
        """
        self._check(x, 4, "pool2d input")
        if kind not in POOL_KINDS:
            raise BuildError(f"unknown pool kind {kind!r}; expected one of {POOL_KINDS}")
        ceil_mode, count_include_pad = bool(ceil_mode), bool(count_include_pad)
        if not count_include_pad and kind != "avg":
            raise BuildError(f"{kind} pooling: count_include_pad applies to avg pooling only")
        n, c, h, w = x.shape
        if kind.startswith("global"):
            if (kernel is not None or stride is not None or padding not in (0, (0, 0))
                    or ceil_mode):
                raise BuildError(f"{kind} pooling takes no kernel, stride, padding or ceil_mode")
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
            ho = pool_output_size(h, kh, sh, ph, ceil_mode)
            wo = pool_output_size(w, kw, sw, pw, ceil_mode)
            # The window must fit the padded input (the dialect's rule; with
            # ceil_mode PyTorch would also accept a larger window).
            if ho < 1 or wo < 1 or kh > h + 2 * ph or kw > w + 2 * pw:
                raise BuildError(f"pool2d: kernel {kh}x{kw} does not fit input {h}x{w}")
            attrs = {"kernel": (kh, kw), "strides": (sh, sw), "padding": (ph, pw)}
            if ceil_mode:
                attrs["ceil_mode"] = True
            if not count_include_pad:
                attrs["count_include_pad"] = False
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
        """Element-wise activation (any of ``ACTIVATIONS`` but ``none``)."""
        self._check(x, None, "activation input")
        if kind not in ACTIVATIONS or kind == "none":
            raise BuildError(f"unknown activation {kind!r}; expected one of "
                             f"{', '.join(ACTIVATIONS[1:])}")
        if kind in ("relu", "relu6"):
            moment, nonneg = (x.moment, True) if x.nonneg else (x.moment * 0.5, True)
        else:
            moment, nonneg = _ACT_MOMENT[kind], kind in _NONNEG_ACTS
        op = self._op("activation", kind, [x], {"kind": kind}, x.shape, name, moment, nonneg)
        return op.result

    def relu(self, x, name=None):
        return self.activation(x, "relu", name)

    def sigmoid(self, x, name=None):
        return self.activation(x, "sigmoid", name)

    def tanh(self, x, name=None):
        return self.activation(x, "tanh", name)

    @staticmethod
    def _broadcast_shape(xs, what):
        """Result shape of element-wise ``add`` / ``mul``: all operands of one
        shape, or (N, C, H, W) operands with (N, C, 1, 1) ones broadcast over
        H and W."""
        full = max((v.shape for v in xs), key=lambda s: int(np.prod(s, dtype=np.int64)))
        for v in xs:
            if v.shape == full:
                continue
            if not (len(full) == 4 and v.shape == full[:2] + (1, 1)):
                raise BuildError(f"{what} operands must have identical types or broadcast "
                                 f"an (N, C, 1, 1) operand over (N, C, H, W): "
                                 f"{xs[0].type} vs {v.type}")
        return full

    def add(self, *xs, name=None):
        """n-ary (>= 2) element-wise sum (see :meth:`_broadcast_shape`)."""
        if len(xs) == 1 and isinstance(xs[0], (list, tuple)):
            xs = tuple(xs[0])
        if len(xs) < 2:
            raise BuildError("add needs at least two operands")
        for v in xs:
            self._check(v, None, "add operand")
        shape = self._broadcast_shape(xs, "add")
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
        op = self._op("add", "add", xs, {}, shape, name, moment,
                      all(v.nonneg for v in xs))
        return op.result

    def mul(self, a, b, name=None):
        """Element-wise product (see :meth:`_broadcast_shape`)."""
        self._check(a, None, "mul operand")
        self._check(b, None, "mul operand")
        shape = self._broadcast_shape((a, b), "mul")
        op = self._op("mul", "mul", [a, b], {}, shape, name, a.moment * b.moment,
                      a.nonneg and b.nonneg)
        return op.result

    def pad(self, x, pads, value=0.0, name=None):
        """Constant spatial padding; ``pads`` = (top, left, bottom, right) >= 0."""
        self._check(x, 4, "pad input")
        try:
            pads = tuple(int(p) for p in pads)
        except TypeError:
            raise BuildError(f"pad: pads must be four ints, got {pads!r}")
        if len(pads) != 4 or min(pads) < 0:
            raise BuildError(f"pad: pads must be four non-negative ints (top, left, bottom, "
                             f"right), got {list(pads)}")
        value = float(value)
        float_literal(value)  # finite f32
        n, c, h, w = x.shape
        shape = (n, c, h + pads[0] + pads[2], w + pads[1] + pads[3])
        op = self._op("pad", "pad", [x], {"pads": pads, "value": float(np.float32(value))},
                      shape, name, x.moment, x.nonneg and value >= 0)
        return op.result

    def affine(self, x, scale=None, shift=None, name=None):
        """Per-channel ``y = x * scale[c] + shift[c]`` on an NCHW or N x C value.

        Creates parameters ``<name>.scale`` / ``<name>.shift`` (shape C) or
        uses the given ones.
        """
        self._check(x, None, "affine input")
        if x.rank not in (2, 4):
            raise BuildError(f"affine input must be a rank-4 (NCHW) or rank-2 (N x C) "
                             f"tensor, got {x.type}")
        if (scale is None) != (shift is None):
            raise BuildError("affine: give both scale and shift parameters or neither")
        c = x.shape[1]
        if scale is not None:
            self._check_param(scale, (c,), "affine scale")
            self._check_param(shift, (c,), "affine shift")
        op = self._op("affine", "affine", [x], {}, x.shape, name, x.moment, False)
        if scale is None:
            scale = self.param(op.name + ".scale", (c,), ("normal", 0.1, 1.0))
            shift = self.param(op.name + ".shift", (c,), ("normal", 0.01))
        op.operands += [scale, shift]
        return op.result

    def upsample(self, x, scale, mode="nearest", name=None):
        """Integer-factor upsampling of H and W (``nearest`` only)."""
        self._check(x, 4, "upsample input")
        if mode not in UPSAMPLE_MODES:
            raise BuildError(f"upsample: unknown mode {mode!r}; expected one of {UPSAMPLE_MODES}")
        sh, sw = _pair(scale, "upsample scale")
        if min(sh, sw) < 1:
            raise BuildError(f"upsample: scale factors must be positive, got {sh}x{sw}")
        n, c, h, w = x.shape
        op = self._op("upsample", "upsample", [x], {"mode": mode, "scale": (sh, sw)},
                      (n, c, h * sh, w * sw), name, x.moment, x.nonneg)
        return op.result

    def channel_shuffle(self, x, groups, name=None):
        """ShuffleNet's shuffle: reshape (N, G, C/G, H, W), swap G and C/G, reshape back."""
        self._check(x, 4, "channel_shuffle input")
        groups = int(groups)
        if groups < 1 or x.channels % groups:
            raise BuildError(f"channel_shuffle: groups={groups} must be positive and divide "
                             f"the {x.channels} channels")
        op = self._op("channel_shuffle", "channel_shuffle", [x], {"groups": groups}, x.shape,
                      name, x.moment, x.nonneg)
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

    def linear(self, x, out_features=None, name=None, weight=None, bias=None):
        """Fully connected layer; creates ``<name>.weight`` (M x K) and ``.bias``,
        or uses the given ``weight`` / ``bias`` parameters."""
        self._check(x, 2, "linear input")
        n, k = x.shape
        out_features = self._out_count("linear", "out_features", out_features, weight, bias, 2)
        m = int(out_features)
        if m < 1:
            raise BuildError("linear: out_features must be positive")
        if weight is not None:
            self._check_param(weight, (m, k), "linear weight")
            self._check_param(bias, (m,), "linear bias")
        std = math.sqrt(1.0 / (k * max(x.moment, 1e-12)))
        op = self._op("linear", "fc", [x], {}, (n, m), name, 1.0, False)
        if weight is None:
            weight = self.param(op.name + ".weight", (m, k), ("normal", std))
            bias = self.param(op.name + ".bias", (m,), ("normal", 0.01))
        op.operands += [weight, bias]
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

    # -- editing (used by rewrites such as ios.importer.fuse) ------------------

    def users(self):
        """``{id(value): [ops using it]}`` (an op using a value twice appears twice)."""
        result = {}
        for op in self.ops:
            for v in op.operands:
                result.setdefault(id(v), []).append(op)
        return result

    def replace_all_uses(self, old, new):
        """Make every op operand and output that is ``old`` be ``new`` (same shape)."""
        self._check(new, None, "replacement")
        if old.shape != new.shape:
            raise BuildError(f"cannot replace {old.type} by {new.type}")
        for op in self.ops:
            op.operands = [new if v is old else v for v in op.operands]
        self.outputs = [new if v is old else v for v in self.outputs]

    def erase_op(self, op):
        """Remove ``op``, whose result must be unused."""
        if any(v is op.result for o in self.ops for v in o.operands) or any(
                v is op.result for v in self.outputs):
            raise BuildError(f"cannot erase {op.name}: its result is still used")
        self.ops.remove(op)
        for i, o in enumerate(self.ops):
            o.index = i

    def erase_unused_params(self):
        """Drop parameter arguments that no op uses; returns their names."""
        used = {id(v) for op in self.ops for v in op.operands}
        dropped = [a for a in self.params if id(a.value) not in used]
        for a in dropped:
            self.args.remove(a)
            self._param_names.discard(a.name)
        return [a.name for a in dropped]

    # -- queries ----------------------------------------------------------------

    def structure(self, names=False):
        """The graph as comparable data: per op its kind, attributes, result
        shape, unit, part and operands (an earlier op's index, an input's index,
        a parameter's shape), plus the outputs. ``names`` adds op and parameter
        names (two importers of one network agree without them)."""
        index = {}
        for i, a in enumerate(self.inputs):
            index[id(a.value)] = ("input", i)
        for a in self.params:
            index[id(a.value)] = ("param", a.shape) + ((a.name,) if names else ())
        ops = []
        for i, op in enumerate(self.ops):
            ops.append((op.kind, tuple(sorted(op.attrs.items())), op.result.shape, op.unit,
                        op.part, tuple(index[id(v)] for v in op.operands))
                       + ((op.name,) if names else ()))
            index[id(op.result)] = ("op", i)
        return ([a.shape for a in self.inputs], ops, [index[id(v)] for v in self.outputs])

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
            if a.init[0] == "normal":  # ("normal", std[, mean])
                t = rng.standard_normal(a.shape, dtype=np.float32)
                t *= np.float32(a.init[1])
                if len(a.init) > 2:
                    t += np.float32(a.init[2])
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
        if not self.inputs:
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
            attr = "{ios.input}" if a.is_input else "{ios.param = %s}" % string_literal(a.name)
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
            items.append(f"ios.unit = {string_literal(op.unit)}")
        if op.part is not None:
            items.append(f"ios.part = {op.part} : i64")
        return (" {" + ", ".join(items) + "}") if items else ""

    _FUNCTIONAL = ("conv2d", "linear", "concat")  # `: (operand types) -> result`
    _UNARY = ("pool2d", "slice", "flatten", "pad", "upsample")  # `: input -> result`

    @staticmethod
    def _op_attrs(op):
        """The printed attributes of ``op`` (before ios.unit / ios.part)."""
        a = op.attrs
        if op.kind == "conv2d":
            return [f"strides = {_array(a['strides'])}", f"padding = {_array(a['padding'])}",
                    f"dilations = {_array(a['dilations'])}", f"groups = {a['groups']} : i64",
                    f"act = #ios.act<{a['act']}>"]
        if op.kind == "pool2d" and not a["kind"].startswith("global"):
            return ([f"kernel = {_array(a['kernel'])}", f"strides = {_array(a['strides'])}",
                     f"padding = {_array(a['padding'])}"]
                    + (["ceil_mode"] if a.get("ceil_mode") else [])
                    + (["count_include_pad = false"] if a.get("count_include_pad") is False
                       else []))
        if op.kind == "pad":
            return [f"pads = {_array(a['pads'])}", f"value = {float_literal(a['value'])} : f32"]
        if op.kind == "upsample":
            return [f"scale = {_array(a['scale'])}"]
        if op.kind == "channel_shuffle":
            return [f"groups = {a['groups']}"]
        return []

    def _print_op(self, op, names, res, locations):
        a = op.attrs
        rt = op.result.type
        types = [v.type for v in op.operands]
        keyword = {"pool2d": a.get("kind"), "activation": a.get("kind"),
                   "upsample": a.get("mode")}.get(op.kind)
        operands = ", ".join(names[id(v)] for v in op.operands)
        if op.kind == "slice":
            operands += f"[{a['begin']}:{a['end']}]"
        if op.kind in self._FUNCTIONAL:
            sig = f"({', '.join(types)}) -> {rt}"
        elif op.kind in self._UNARY:
            sig = f"{types[0]} -> {rt}"
        elif op.kind == "affine" or (op.kind in ("add", "mul") and len(set(types)) > 1):
            sig = ", ".join(types)  # a broadcast operand lists every operand type
        else:
            sig = rt
        text = (f"{res} = {op.mnemonic} {keyword + ' ' if keyword else ''}{operands}"
                f"{self._attr_dict(self._op_attrs(op), op)} : {sig}")
        if locations:
            text += f" loc({string_literal(op.name)})"
        return text
