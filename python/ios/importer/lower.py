"""Lowering shared by both importers (ONNX and torch.fx) onto ``ios.builder``.

Each frontend reads its own format and calls these helpers with the
framework-neutral meaning of a layer (a convolution with four explicit pads, a
pool with ``ceil_mode``, a clip with bounds, a reshape to a shape...). So the two
paths produce the same ``ios`` graph for the same network: the rules for
asymmetric padding, the accepted activation bounds, reshapes, channel shuffles
and batch norm live here once. :mod:`ios.importer.fuse` then folds batch norms
into convolutions and fuses activations.

Helpers raise :class:`LoweringError` (a reason, no node context); the
frontends add which node failed.
"""

import math

import numpy as np

from ios.builder import BuildError, Graph, Value, pool_output_size
from ios.importer import fuse

# The most negative f32: padding value of explicit max-pool padding (the ios.pad
# value must be finite).
MAX_POOL_PAD_VALUE = -3.4028234663852886e38


class LoweringError(ValueError):
    """A layer the ``ios`` ops cannot express (the message says why)."""


class ImporterError(ValueError):
    """A model cannot be imported: the message names the node (its index, name
    and op type) and the reason."""


class Const:
    """A constant tensor of the source model; ``name`` keys it as a parameter
    (initializer / attribute name, or the name of the node that made it)."""

    __slots__ = ("array", "name")

    def __init__(self, array, name):
        self.array = np.asarray(array)
        self.name = name

    @property
    def shape(self):
        return self.array.shape


class Grouped:
    """A 4-D value viewed as (N, G, C/G, H, W): the first reshape of a channel
    shuffle. Only a transpose of axes 1 and 2 or a reshape back may use it."""

    def __init__(self, value, groups):
        n, c, h, w = value.shape
        self.value, self.groups = value, groups
        self.shape = (n, groups, c // groups, h, w)


class Shuffled:
    """A :class:`Grouped` value with axes 1 and 2 swapped: (N, C/G, G, H, W).
    Reshaped back to (N, C, H, W) it is ``ios.channel_shuffle`` with G groups."""

    def __init__(self, grouped):
        self.value, self.groups = grouped.value, grouped.groups
        n, g, cg, h, w = grouped.shape
        self.shape = (n, cg, g, h, w)


def shape_of(x):
    """Shape of a builder value or a reshape marker."""
    return tuple(x.shape)


def clip_activation(lo, hi):
    """The activation of ``clamp(x, lo, hi)`` (None: unbounded)."""
    lo = -math.inf if lo is None else float(lo)
    hi = math.inf if hi is None else float(hi)
    if lo == 0.0 and hi == 6.0:
        return "relu6"
    if lo == 0.0 and hi == math.inf:
        return "relu"
    raise LoweringError(f"clip bounds [{lo:g}, {hi:g}] are not supported: only [0, 6] (relu6) "
                        f"and [0, inf] (relu)")


def hardsigmoid_activation(alpha, beta):
    """``max(0, min(1, alpha * x + beta))`` is PyTorch's hardsigmoid only for
    alpha = 1/6, beta = 0.5 (the attributes are f32, hence the tolerance)."""
    if abs(alpha - 1.0 / 6.0) > 1e-6 or abs(beta - 0.5) > 1e-6:
        raise LoweringError(f"HardSigmoid alpha={alpha:g}, beta={beta:g} is not supported: "
                            f"only alpha=1/6, beta=0.5 (PyTorch's hardsigmoid)")
    return "hardsigmoid"


def _pairs(pads):
    """(top, left, bottom, right) -> symmetric part (ph, pw) and the rest."""
    t, l, b, r = (int(p) for p in pads)
    if min(t, l, b, r) < 0:
        raise LoweringError(f"negative pads {[t, l, b, r]} are not supported")
    ph, pw = min(t, b), min(l, r)
    return (ph, pw), (t - ph, l - pw, b - ph, r - pw)


class Lowering:
    """A :class:`Graph` under construction plus its parameter values."""

    def __init__(self, name, batch):
        try:
            self.g = Graph(name, batch)
        except BuildError as e:
            raise LoweringError(str(e))
        self.params = {}  # name -> ndarray (float64 where computed, cast at the end)

    # -- parameters --------------------------------------------------------------

    def param(self, name, array, unique=False):
        """The parameter argument ``name`` holding ``array`` (created once per
        name; ``unique`` makes a fresh name ``name_1``... instead of reusing)."""
        array = np.asarray(array)
        if array.dtype.kind != "f":
            raise LoweringError(f"parameter {name!r} has dtype {array.dtype}, expected float")
        if unique:
            base, i = name, 1
            while name in self.params:
                name = f"{base}_{i}"
                i += 1
        if name in self.params:
            if self.params[name].shape != array.shape or not np.array_equal(
                    self.params[name], array):
                raise LoweringError(f"two different tensors named {name!r}")
            return next(a.value for a in self.g.params if a.name == name)
        self.params[name] = array
        return self.g.param(name, array.shape, init=("given",))

    # -- layers ------------------------------------------------------------------

    def _pad(self, x, extra, value, name):
        if not any(extra):
            return x
        return self.g.pad(x, extra, value, name=name + ".pad")

    def conv(self, x, weight, bias, strides, pads, dilations, groups, name):
        """Convolution; ``weight`` / ``bias`` are ``(name, ndarray)`` (bias may be
        None: a zero bias ``<weight>.zero_bias``); ``pads`` = (top, left,
        bottom, right), the asymmetric part becomes an ``ios.pad``."""
        wname, w = weight
        w = np.asarray(w)
        if w.ndim != 4:
            raise LoweringError(f"only 2-D convolutions are supported (weight of rank {w.ndim})")
        if bias is None:
            bias = (wname + ".zero_bias", np.zeros(w.shape[0], w.dtype))
        sym, extra = _pairs(pads)
        x = self._pad(x, extra, 0.0, name)
        return self.g.conv2d(x, stride=strides, padding=sym, dilation=dilations,
                             groups=groups, name=name, weight=self.param(*weight),
                             bias=self.param(*bias))

    def pool(self, x, kind, kernel, strides, pads, ceil_mode, count_include_pad, name,
             onnx_ceil_size=False):
        """Windowed max / avg pooling with (top, left, bottom, right) pads.

        Asymmetric max-pool padding becomes an ``ios.pad`` with the most
        negative f32; asymmetric avg-pool padding only where it does not change
        the divisor (count_include_pad without ceil_mode). ``onnx_ceil_size``
        checks that ONNX's ceil_mode output size formula (no rule for windows
        starting in the right padding) agrees with PyTorch's.
        """
        sym, extra = _pairs(pads)
        if kind == "avg" and not any(pads):
            # Without padding both divisors are the taps inside the input.
            count_include_pad = True
        if any(extra):
            if kind == "avg" and (not count_include_pad or ceil_mode):
                raise LoweringError("average pooling with asymmetric pads is only supported "
                                    "with count_include_pad=1 and ceil_mode=0")
            x = self._pad(x, extra, MAX_POOL_PAD_VALUE if kind == "max" else 0.0, name)
        if ceil_mode and onnx_ceil_size:
            h, w = x.shape[2:]
            for size, k, s, p in ((h, kernel[0], strides[0], sym[0]),
                                  (w, kernel[1], strides[1], sym[1])):
                onnx = -(-(size + 2 * p - k) // s) + 1
                torch = pool_output_size(size, k, s, p, True)
                if onnx != torch:
                    raise LoweringError(f"ceil_mode output size {onnx} (ONNX) differs from "
                                        f"{torch} (PyTorch: the last window must start "
                                        f"inside the input or the left padding)")
        return self.g.pool2d(x, kind, kernel, strides, sym, ceil_mode=ceil_mode,
                             count_include_pad=count_include_pad, name=name)

    def batch_norm(self, x, scale, bias, mean, var, eps, name):
        """Inference batch norm as ``ios.affine`` (``fuse`` folds it into a
        preceding conv / linear where legal). Arguments are (name, ndarray);
        the parameters are ``<scale>.bn_scale`` and ``<bias>.bn_shift``."""
        if x.rank not in (2, 4):
            raise LoweringError(f"batch norm of a rank-{x.rank} tensor is not supported")
        s = np.asarray(scale[1], np.float64) / np.sqrt(np.asarray(var[1], np.float64) + eps)
        t = np.asarray(bias[1], np.float64) - np.asarray(mean[1], np.float64) * s
        if s.shape != (x.shape[1],) or t.shape != (x.shape[1],):
            raise LoweringError(f"batch norm parameters of shape {list(s.shape)} for "
                                f"{x.shape[1]} channels")
        return self.g.affine(x, self.param(scale[0] + ".bn_scale", s, unique=True),
                             self.param(bias[0] + ".bn_shift", t, unique=True), name=name)

    def affine_constant(self, x, kind, c, name):
        """``x + c``, ``x - c``, ``x * c`` or ``x / c`` (``kind`` add / sub / mul
        / div) for a scalar or per-channel :class:`Const` ``c``: an
        ``ios.affine`` with parameters ``<c>`` and ``<c>.ones`` / ``.zeros`` /
        ``.neg`` / ``.reciprocal``."""
        a = np.asarray(c.array)
        channels = x.shape[1]
        shape = a.shape
        while shape and shape[0] == 1 and len(shape) > x.rank - 1:
            shape = shape[1:]
        if a.dtype.kind != "f" or not (
                a.size == 1 or (x.rank == 4 and shape == (channels, 1, 1))
                or (x.rank == 2 and shape == (channels,))):
            raise LoweringError(f"{kind} with a constant of shape {list(a.shape)} is not "
                                f"supported: only scalars and per-channel constants over "
                                f"{x.type}")
        v = np.broadcast_to(a.reshape(-1).astype(np.float64), (channels,))
        ones, zeros = np.ones(channels), np.zeros(channels)
        scale, shift = {
            "add": ((c.name + ".ones", ones), (c.name, v)),
            "sub": ((c.name + ".ones", ones), (c.name + ".neg", -v)),
            "mul": ((c.name, v), (c.name + ".zeros", zeros)),
            "div": ((c.name + ".reciprocal", 1.0 / v), (c.name + ".zeros", zeros)),
        }[kind]
        return self.g.affine(x, self.param(*scale, unique=True),
                             self.param(*shift, unique=True), name=name)

    def linear(self, x, weight, bias, name):
        """Fully connected layer; ``weight`` is (name, M x K ndarray), ``bias``
        (name, M) or None (a zero bias ``<weight>.zero_bias``)."""
        wname, w = weight
        if x.rank != 2:
            raise LoweringError(f"a fully connected layer needs a 2-D input, got {x.type}")
        if np.ndim(w) != 2:
            raise LoweringError(f"a fully connected layer needs a 2-D weight, got shape "
                                f"{list(np.shape(w))}")
        if bias is None:
            bias = (wname + ".zero_bias", np.zeros(np.shape(w)[0], np.asarray(w).dtype))
        return self.g.linear(x, name=name, weight=self.param(*weight),
                             bias=self.param(bias[0], np.reshape(bias[1], -1)))

    def reduce_spatial(self, x, kind, keepdims, name):
        """Global pooling over H and W (``global_avg`` / ``global_max``),
        followed by a flatten without keepdims."""
        if x.rank != 4:
            raise LoweringError(f"reductions are only supported over H and W of a 4-D tensor, "
                                f"got {x.type}")
        y = self.g.pool2d(x, kind, name=name)
        return y if keepdims else self.g.flatten(y, name=name + ".flatten")

    def upsample(self, x, scales, name):
        """Nearest upsampling by (1, 1, sh, sw) integer factors."""
        scales = [float(s) for s in scales]
        if (len(scales) != 4 or scales[:2] != [1.0, 1.0]
                or any(s < 1 or s != int(s) for s in scales[2:])):
            raise LoweringError(f"only integer spatial upsampling factors are supported, "
                                f"got scales {scales}")
        return self.g.upsample(x, (int(scales[2]), int(scales[3])), name=name)

    def elementwise(self, kind, xs, name):
        """``add`` / ``mul`` of tensors, with the (N, C, 1, 1) broadcasting of the ops."""
        for v in xs:
            if not isinstance(v, Value):
                raise LoweringError(f"{kind} of a reshaped intermediate is not supported")
        if kind == "add":
            return self.g.add(*xs, name=name)
        return self.g.mul(xs[0], xs[1], name=name)

    def channel_slice(self, x, begin, end, name):
        """Channels [begin, end); the full range is the value itself."""
        if begin == 0 and end == x.shape[1]:
            return x
        return self.g.slice(x, begin, end, name=name)

    def reshape(self, x, shape, name):
        """Reshape to ``shape`` (-1 allowed once): identity, flatten to
        (N, C*H*W), or the reshapes of a channel shuffle (see :class:`Grouped`)."""
        shape = [int(d) for d in shape]
        src = shape_of(x)
        total = int(np.prod(src, dtype=np.int64))
        if shape.count(-1) > 1 or any(d < -1 or d == 0 for d in shape):
            raise LoweringError(f"invalid reshape target {shape}")
        if -1 in shape:
            known = int(np.prod([d for d in shape if d != -1], dtype=np.int64))
            if known == 0 or total % known:
                raise LoweringError(f"cannot reshape {list(src)} to {shape}")
            shape[shape.index(-1)] = total // known
        shape = tuple(shape)
        if int(np.prod(shape, dtype=np.int64)) != total:
            raise LoweringError(f"cannot reshape {list(src)} to {list(shape)}")
        if isinstance(x, Value):
            if shape == src:
                return x
            if x.rank == 4 and shape == (src[0], total // src[0]):
                return self.g.flatten(x, name=name)
            if (x.rank == 4 and len(shape) == 5 and shape[0] == src[0]
                    and shape[1] * shape[2] == src[1] and shape[3:] == src[2:]):
                return Grouped(x, shape[1])
        elif isinstance(x, Grouped) and shape == x.value.shape:
            return x.value
        elif isinstance(x, Shuffled) and shape == x.value.shape:
            return self.g.channel_shuffle(x.value, x.groups, name=name)
        raise LoweringError(f"reshape of {list(src)} to {list(shape)} is not supported: only "
                            f"identity, flatten to (N, C*H*W) and the channel shuffle "
                            f"reshape(N, G, C/G, H, W) - transpose(1, 2) - reshape(N, C, H, W)")

    def transpose(self, x, perm):
        """Transposes: identity, or axes 1 and 2 of a channel shuffle's
        (N, G, C/G, H, W) view."""
        perm = tuple(int(p) % len(shape_of(x)) for p in perm)
        if perm == tuple(range(len(perm))) and isinstance(x, Value):
            return x
        if isinstance(x, Grouped) and perm == (0, 2, 1, 3, 4):
            return Shuffled(x)
        raise LoweringError(f"transpose {list(perm)} of {list(shape_of(x))} is not supported: "
                            f"only the channel shuffle's transpose of axes 1 and 2 of "
                            f"(N, G, C/G, H, W)")

    # -- result ------------------------------------------------------------------

    def finish(self, outputs):
        """Set the outputs, fold and fuse (:mod:`ios.importer.fuse`), drop
        unused ops and parameters; returns ``(graph, {name: float32 ndarray})``."""
        for v in outputs:
            if not isinstance(v, Value):
                raise LoweringError("a graph output is not a tensor of the ios graph "
                                    "(a constant or a reshaped intermediate)")
        self.g.output(*outputs)
        fuse.run(self.g, self.params)
        return self.g, {a.name: np.array(self.params[a.name], dtype=np.float32)
                        for a in self.g.params}
