"""ONNX models to ``ios`` graphs (``python3 -m ios.importer``).

Walks the ONNX graph in node order. Each value is a builder tensor, a
:class:`Const` (initializers, ``Constant`` nodes and everything folded from
them: the shape arithmetic exporters emit), or a reshape marker of
:mod:`ios.importer.lower`. Nodes whose inputs are all constants are evaluated
with numpy; the others are lowered through :class:`ios.importer.lower.Lowering`.
See ``docs/Import.md`` for the op table and the rejected ops and attributes.
"""

import math
import os
import re

import numpy as np

from ios.builder import BuildError, Value
from ios.optional import require
from ios.importer.lower import (Const, ImporterError, Lowering, LoweringError,
                                clip_activation, hardsigmoid_activation, shape_of)


def _onnx():
    return require("onnx.numpy_helper", "python3-onnx", "ios.importer")


class Unavailable:
    """An output the importer does not compute (max-pool indices, dropout
    masks, batch-norm statistics): using it is an error."""

    def __init__(self, reason):
        self.reason = reason


# -- node context ------------------------------------------------------------------

class _Node:
    def __init__(self, lw, node, index, opset, env):
        self.lw, self.node, self.index, self.opset = lw, node, index, opset
        self.name = node.name or f"{node.op_type}_{index}"
        onnx = _onnx()
        self.attrs = {}
        for a in node.attribute:
            v = onnx.helper.get_attribute_value(a)
            if isinstance(v, bytes):
                v = v.decode()
            elif isinstance(v, onnx.TensorProto):
                v = onnx.numpy_helper.to_array(v)
            self.attrs[a.name] = v
        self.ins = []
        for n in node.input:
            if n == "":
                self.ins.append(None)
            elif n not in env:
                raise LoweringError(f"input {n!r} is not produced by an earlier node")
            else:
                self.ins.append(env[n])

    def attr(self, name, default=None):
        return self.attrs.get(name, default)

    def input(self, i):
        v = self.ins[i] if i < len(self.ins) else None
        if isinstance(v, Unavailable):
            raise LoweringError(v.reason)
        return v

    def tensor(self, i):
        v = self.input(i)
        if v is None:
            raise LoweringError(f"input {i} is missing")
        if isinstance(v, Const):
            raise LoweringError(f"input {i} is a constant where a tensor of the network is "
                                f"expected")
        if not isinstance(v, Value):
            raise LoweringError(f"input {i} is a reshaped intermediate "
                                f"{list(shape_of(v))}, only a channel shuffle can use it")
        return v

    def const(self, i, what=None):
        """(name, ndarray) of constant input ``i`` (None if absent)."""
        v = self.input(i)
        if v is None:
            return None
        if not isinstance(v, Const):
            raise LoweringError(f"input {i} ({what or 'parameter'}) must be a constant "
                                f"(an initializer or folded from constants)")
        return v.name, v.array

    def const_or_attr(self, i, attr, default=None):
        """Opset-dependent argument: an input in newer opsets, an attribute in older."""
        c = self.const(i, attr) if i < len(self.ins) and self.ins[i] is not None else None
        if c is not None:
            return c[1]
        v = self.attr(attr)
        return default if v is None else v


def _np_dtype(onnx, to):
    return np.dtype(onnx.mapping.TENSOR_TYPE_TO_NP_TYPE[to])


def _axes(axes, rank):
    return sorted(int(a) % rank for a in axes)


# -- constant folding (numpy) ----------------------------------------------------------

def _fold_constant(n, a):
    for key in ("value", "value_float", "value_floats", "value_int", "value_ints"):
        if key in n.attrs:
            v = n.attrs[key]
            if key in ("value_float", "value_floats"):
                return [np.asarray(v, np.float32)]
            if key in ("value_int", "value_ints"):
                return [np.asarray(v, np.int64)]
            return [np.asarray(v)]
    raise LoweringError(f"Constant with attributes {sorted(n.attrs)} is not supported")


def _fold_unsqueeze(n, a):
    axes = n.const_or_attr(1, "axes")
    x = a[0]
    rank = x.ndim + len(axes)
    for ax in _axes(axes, rank):
        x = np.expand_dims(x, ax)
    return [x]


def _fold_squeeze(n, a):
    axes = n.const_or_attr(1, "axes")
    x = a[0]
    if axes is None:
        return [np.squeeze(x)]
    return [np.squeeze(x, axis=tuple(_axes(axes, x.ndim)))]


def _int_div(x, y):
    if np.issubdtype(np.result_type(x, y), np.integer):
        return np.trunc(np.true_divide(x, y)).astype(np.result_type(x, y))
    return np.true_divide(x, y).astype(np.result_type(x, y))


def _reshape_target(n, src_shape, target):
    target = [int(d) for d in target]
    if not n.attr("allowzero", 0):
        target = [src_shape[i] if d == 0 else d for i, d in enumerate(target)]
    return target


def _fold_slice(n, a):
    x = a[0]
    if n.opset >= 10:
        starts, ends = a[1], a[2]
        axes = a[3] if len(a) > 3 and a[3] is not None else range(len(starts))
        steps = a[4] if len(a) > 4 and a[4] is not None else [1] * len(starts)
    else:
        starts, ends = n.attr("starts"), n.attr("ends")
        axes = n.attr("axes", list(range(len(starts))))
        steps = [1] * len(starts)
    index = [slice(None)] * x.ndim
    for s, e, ax, st in zip(starts, ends, axes, steps):
        index[int(ax) % x.ndim] = slice(int(s), int(e), int(st))
    return [x[tuple(index)]]


def _fold_constant_of_shape(n, a):
    v = n.attr("value")
    v = np.zeros(1, np.float32) if v is None else np.asarray(v).reshape(-1)
    return [np.full(tuple(int(d) for d in a[0]), v[0], v.dtype)]


def _fold_reduce(fn):
    def fold(n, a):
        axes = n.const_or_attr(1, "axes")
        axes = None if axes is None else tuple(_axes(axes, a[0].ndim))
        return [fn(a[0], axis=axes, keepdims=bool(n.attr("keepdims", 1)))]
    return fold


FOLD = {
    "Constant": _fold_constant,
    "Identity": lambda n, a: [a[0]],
    "Cast": lambda n, a: [a[0].astype(_np_dtype(_onnx(), n.attr("to")))],
    "Gather": lambda n, a: [np.take(a[0], a[1].astype(np.int64), axis=n.attr("axis", 0))],
    "Unsqueeze": _fold_unsqueeze,
    "Squeeze": _fold_squeeze,
    "Concat": lambda n, a: [np.concatenate([np.atleast_1d(x) for x in a], axis=n.attr("axis"))],
    "Add": lambda n, a: [np.add(a[0], a[1])],
    "Sub": lambda n, a: [np.subtract(a[0], a[1])],
    "Mul": lambda n, a: [np.multiply(a[0], a[1])],
    "Div": lambda n, a: [_int_div(a[0], a[1])],
    "Neg": lambda n, a: [np.negative(a[0])],
    "Abs": lambda n, a: [np.abs(a[0])],
    "Floor": lambda n, a: [np.floor(a[0])],
    "Ceil": lambda n, a: [np.ceil(a[0])],
    "Sqrt": lambda n, a: [np.sqrt(a[0])],
    "Min": lambda n, a: [np.minimum.reduce(a)],
    "Max": lambda n, a: [np.maximum.reduce(a)],
    "Equal": lambda n, a: [np.equal(a[0], a[1])],
    "Not": lambda n, a: [np.logical_not(a[0])],
    "Where": lambda n, a: [np.where(a[0], a[1], a[2])],
    "Reshape": lambda n, a: [a[0].reshape(_reshape_target(n, a[0].shape, a[1]))],
    "Transpose": lambda n, a: [np.transpose(a[0], n.attr("perm"))],
    "Slice": _fold_slice,
    "ConstantOfShape": _fold_constant_of_shape,
    "Range": lambda n, a: [np.arange(a[0], a[1], a[2]).astype(np.result_type(a[0], a[1]))],
    "Expand": lambda n, a: [a[0] * np.ones(tuple(int(d) for d in a[1]), a[0].dtype)],
    "Size": lambda n, a: [np.asarray(a[0].size, np.int64)],
    "ReduceProd": _fold_reduce(np.prod),
    "ReduceSum": _fold_reduce(np.sum),
}


# -- lowering of network ops -----------------------------------------------------------

def _pads4(n, x, kernel, strides, dilations):
    """(top, left, bottom, right) from ``pads`` / ``auto_pad``."""
    auto = n.attr("auto_pad", "NOTSET")
    if auto in ("NOTSET", ""):
        pads = [int(p) for p in n.attr("pads", [0, 0, 0, 0])]
        if len(pads) != 4:
            raise LoweringError(f"pads {pads}: only 2-D windows are supported")
        return pads
    if auto == "VALID":
        return [0, 0, 0, 0]
    if auto not in ("SAME_UPPER", "SAME_LOWER"):
        raise LoweringError(f"auto_pad {auto!r} is not supported")
    begin, end = [], []
    for size, k, s, d in zip(x.shape[2:], kernel, strides, dilations):
        total = max((-(-size // s) - 1) * s + (k - 1) * d + 1 - size, 0)
        small = total // 2
        begin.append(small if auto == "SAME_UPPER" else total - small)
        end.append(total - begin[-1])
    return begin + end


def _window(n, x, kernel):
    if len(kernel) != 2:
        raise LoweringError(f"kernel_shape {list(kernel)}: only 2-D windows are supported")
    strides = [int(v) for v in n.attr("strides", [1, 1])]
    dilations = [int(v) for v in n.attr("dilations", [1, 1])]
    return strides, dilations, _pads4(n, x, kernel, strides, dilations)


def _conv(n):
    x = n.tensor(0)
    weight = n.const(1, "weight")
    bias = n.const(2, "bias")
    kernel = list(weight[1].shape[2:])
    if n.attr("kernel_shape") is not None and list(n.attr("kernel_shape")) != kernel:
        raise LoweringError(f"kernel_shape {list(n.attr('kernel_shape'))} does not match the "
                            f"weight's {kernel}")
    strides, dilations, pads = _window(n, x, kernel)
    return [n.lw.conv(x, weight, bias, strides, pads, dilations, n.attr("group", 1), n.name)]


def _batch_norm(n):
    if n.attr("training_mode", 0):
        raise LoweringError("training_mode=1 is not supported (inference only)")
    if n.attr("spatial", 1) != 1:
        raise LoweringError("spatial=0 is not supported")
    x = n.tensor(0)
    y = n.lw.batch_norm(x, n.const(1, "scale"), n.const(2, "bias"), n.const(3, "mean"),
                        n.const(4, "var"), float(n.attr("epsilon", 1e-5)), n.name)
    return [y] + [Unavailable(f"BatchNormalization output {i} (training statistics) is not "
                              f"supported") for i in range(1, len(n.node.output))]


def _activation(kind):
    return lambda n: [n.lw.g.activation(n.tensor(0), kind, name=n.name)]


def _bound(v, default):
    if v is None:
        return default
    v = float(np.asarray(v).reshape(-1)[0])
    # Clip-6's attribute defaults are the f32 extremes: unbounded.
    return default if abs(v) >= 3.4e38 else v


def _clip(n):
    x = n.tensor(0)
    if n.opset >= 11:
        lo, hi = n.const(1, "min"), n.const(2, "max")
        lo, hi = (None if c is None else c[1] for c in (lo, hi))
    else:
        lo, hi = n.attr("min"), n.attr("max")
    kind = clip_activation(_bound(lo, -math.inf), _bound(hi, math.inf))
    return [n.lw.g.activation(x, kind, name=n.name)]


def _hard_sigmoid(n):
    kind = hardsigmoid_activation(float(n.attr("alpha", 0.2)), float(n.attr("beta", 0.5)))
    return [n.lw.g.activation(n.tensor(0), kind, name=n.name)]


def _binary(kind):
    def lower(n):
        a, b = n.input(0), n.input(1)
        if isinstance(a, Value) and isinstance(b, Value) or kind in ("Sum",):
            xs = [n.tensor(i) for i in range(len(n.ins))]
            if kind in ("Sub", "Div"):
                raise LoweringError(f"{kind} of two tensors is not supported")
            if len(xs) == 1:  # Sum of one tensor
                return xs
            op = "mul" if kind == "Mul" else "add"
            return [n.lw.elementwise(op, xs, n.name)]
        # One constant operand: a per-channel affine (folded into a conv when legal).
        if isinstance(a, Const) and kind in ("Add", "Mul"):
            a, b = b, a
        if not isinstance(b, Const):
            raise LoweringError(f"{kind} with a constant first operand is not supported")
        x = n.tensor(0 if n.input(0) is a else 1)
        return [n.lw.affine_constant(x, kind.lower(), b, n.name)]
    return lower


def _pool(kind):
    def lower(n):
        x = n.tensor(0)
        kernel = [int(k) for k in n.attr("kernel_shape")]
        strides, dilations, pads = _window(n, x, kernel)
        if dilations != [1, 1]:
            raise LoweringError(f"dilations {dilations} are not supported for pooling")
        if n.attr("storage_order", 0) != 0:
            raise LoweringError("storage_order=1 is not supported")
        count_include_pad = bool(n.attr("count_include_pad", 0)) if kind == "avg" else True
        y = n.lw.pool(x, kind, kernel, strides, pads, bool(n.attr("ceil_mode", 0)),
                      count_include_pad, n.name, onnx_ceil_size=True)
        extra = [Unavailable("MaxPool indices are not supported")] * (len(n.node.output) - 1)
        return [y] + extra
    return lower


def _reduce(kind):
    def lower(n):
        x = n.tensor(0)
        axes = n.const_or_attr(1, "axes")
        if axes is None or x.rank != 4 or _axes(axes, 4) != [2, 3]:
            raise LoweringError(f"{n.node.op_type} over axes "
                                f"{None if axes is None else list(axes)} of {x.type} is not "
                                f"supported: only over H and W (axes 2, 3) of a 4-D tensor")
        return [n.lw.reduce_spatial(x, kind, bool(n.attr("keepdims", 1)), n.name)]
    return lower


def _pad(n):
    x = n.tensor(0)
    mode = n.attr("mode", "constant")
    if mode != "constant":
        raise LoweringError(f"mode {mode!r} is not supported: only constant padding")
    if n.opset >= 11:
        pads = n.const(1, "pads")[1]
        value = n.const(2, "constant_value")
        value = 0.0 if value is None else float(np.asarray(value[1]).reshape(-1)[0])
        if n.input(3) is not None:
            raise LoweringError("the axes input is not supported")
    else:
        pads, value = n.attr("pads"), float(n.attr("value", 0.0))
    pads = [int(p) for p in pads]
    if x.rank != 4 or len(pads) != 8 or any(pads[i] for i in (0, 1, 4, 5)):
        raise LoweringError(f"pads {pads} of {x.type}: only padding of H and W of a 4-D tensor "
                            f"is supported")
    if not math.isfinite(value):
        raise LoweringError(f"padding value {value} is not supported: it must be finite")
    if not any(pads):
        return [x]
    if min(pads) < 0:
        raise LoweringError(f"negative pads {pads} are not supported")
    return [n.lw.g.pad(x, (pads[2], pads[3], pads[6], pads[7]), value, name=n.name)]


def _concat(n):
    xs = [n.tensor(i) for i in range(len(n.ins))]
    rank = xs[0].rank
    if rank != 4 or int(n.attr("axis")) % rank != 1:
        raise LoweringError(f"concatenation along axis {n.attr('axis')} of {xs[0].type} is not "
                            f"supported: only channels (axis 1) of 4-D tensors")
    return [xs[0] if len(xs) == 1 else n.lw.g.concat(xs, name=n.name)]


def _split(n):
    x = n.tensor(0)
    axis = int(n.attr("axis", 0)) % x.rank
    if axis != 1 or x.rank != 4:
        raise LoweringError(f"split along axis {n.attr('axis', 0)} of {x.type} is not "
                            f"supported: only channels (axis 1) of 4-D tensors")
    sizes = n.const_or_attr(1, "split")
    count = len(n.node.output)
    if sizes is None:
        if x.channels % count:
            raise LoweringError(f"{x.channels} channels do not split into {count} equal parts")
        sizes = [x.channels // count] * count
    sizes = [int(s) for s in sizes]
    if sum(sizes) != x.channels or len(sizes) != count:
        raise LoweringError(f"split sizes {sizes} do not cover {x.channels} channels")
    outs, begin = [], 0
    for i, s in enumerate(sizes):
        outs.append(n.lw.channel_slice(x, begin, begin + s, f"{n.name}.{i}"))
        begin += s
    return outs


def _slice(n):
    x = n.tensor(0)
    if n.opset >= 10:
        starts, ends = n.const(1, "starts")[1], n.const(2, "ends")[1]
        axes = n.const(3, "axes")
        axes = list(range(len(starts))) if axes is None else axes[1]
        steps = n.const(4, "steps")
        steps = [1] * len(starts) if steps is None else steps[1]
    else:
        starts, ends = n.attr("starts"), n.attr("ends")
        axes, steps = n.attr("axes", list(range(len(starts)))), [1] * len(starts)
    begin, end = 0, x.channels
    for s, e, ax, st in zip(starts, ends, axes, steps):
        ax = int(ax) % x.rank
        size = x.shape[ax]
        lo, hi, step = slice(int(s), int(e), int(st)).indices(size)
        if step != 1:
            raise LoweringError(f"slice steps {list(steps)} are not supported")
        if ax == 1 and x.rank == 4:
            begin, end = lo, max(hi, lo)
        elif (lo, hi) != (0, size):
            raise LoweringError(f"slicing axis {ax} of {x.type} is not supported: only "
                                f"channel ranges of 4-D tensors")
    if begin >= end:
        raise LoweringError(f"empty channel range [{begin}, {end})")
    return [n.lw.channel_slice(x, begin, end, n.name)]


def _flatten(n):
    x = n.input(0)
    if not isinstance(x, Value):
        x = n.tensor(0)
    axis = int(n.attr("axis", 1)) % max(len(shape_of(x)), 1)
    shape = shape_of(x)
    target = (int(np.prod(shape[:axis], dtype=np.int64)), int(np.prod(shape[axis:], dtype=np.int64)))
    return [n.lw.reshape(x, target, n.name)]


def _reshape(n):
    x = n.input(0)
    if x is None or isinstance(x, Const):
        x = n.tensor(0)
    target = _reshape_target(n, shape_of(x), n.const(1, "shape")[1])
    return [n.lw.reshape(x, target, n.name)]


def _squeeze(unsqueeze):
    def lower(n):
        x = n.tensor(0)
        axes = n.const_or_attr(1, "axes")
        shape = list(x.shape)
        if unsqueeze:
            for ax in _axes(axes, len(shape) + len(axes)):
                shape.insert(ax, 1)
        else:
            drop = (_axes(axes, len(shape)) if axes is not None
                    else [i for i, d in enumerate(shape) if d == 1])
            if any(shape[i] != 1 for i in drop):
                raise LoweringError(f"cannot squeeze axes {drop} of {x.type}")
            shape = [d for i, d in enumerate(shape) if i not in drop]
        return [n.lw.reshape(x, shape, n.name)]
    return lower


def _transpose(n):
    x = n.input(0)
    if x is None or isinstance(x, Const):
        x = n.tensor(0)
    perm = n.attr("perm", list(reversed(range(len(shape_of(x))))))
    return [n.lw.transpose(x, perm)]


def _gemm(n):
    x = n.tensor(0)
    if n.attr("transA", 0):
        raise LoweringError("transA=1 is not supported")
    alpha, beta = float(n.attr("alpha", 1.0)), float(n.attr("beta", 1.0))
    if alpha != 1.0 or beta != 1.0:
        raise LoweringError(f"alpha={alpha:g}, beta={beta:g} are not supported: only 1")
    wname, w = n.const(1, "B")
    if not n.attr("transB", 0):
        wname, w = wname + ".T", np.ascontiguousarray(np.asarray(w).T)
    bias = n.const(2, "C")
    if bias is not None:
        m = np.shape(w)[0]
        if np.size(bias[1]) != m or np.ndim(bias[1]) > 2:
            raise LoweringError(f"bias C of shape {list(np.shape(bias[1]))} is not supported: "
                                f"only ({m},) or (1, {m})")
    return [n.lw.linear(x, (wname, w), bias, n.name)]


def _matmul(n):
    x = n.tensor(0)
    wname, w = n.const(1, "B")
    if np.ndim(w) != 2:
        raise LoweringError(f"MatMul with a constant of shape {list(np.shape(w))} is not "
                            f"supported: only 2-D weights")
    return [n.lw.linear(x, (wname + ".T", np.ascontiguousarray(np.asarray(w).T)), None,
                        n.name)]


def _softmax(n):
    x = n.tensor(0)
    axis = int(n.attr("axis", -1 if n.opset >= 13 else 1))
    if x.rank != 2 or axis % 2 != 1:
        raise LoweringError(f"softmax along axis {axis} of {x.type} is not supported: only the "
                            f"last axis of a 2-D tensor")
    return [n.lw.g.softmax(x, name=n.name)]


def _dropout(n):
    x = n.input(0)
    if n.opset >= 12 and n.input(2) is not None:
        mode = n.const(2, "training_mode")[1]
        if bool(np.asarray(mode).reshape(-1)[0]):
            raise LoweringError("training_mode=true is not supported (inference only)")
    return [x] + [Unavailable("Dropout masks are not supported")] * (len(n.node.output) - 1)


def _identity(n):
    return [n.input(0)]


# Nearest-neighbour coordinate rules that are exactly "repeat each pixel s
# times" for an integer factor s.
_NEAREST_OK = {("asymmetric", "floor"), ("half_pixel", "round_prefer_floor"),
               ("half_pixel", "round_prefer_ceil"), ("pytorch_half_pixel", "round_prefer_floor"),
               ("pytorch_half_pixel", "round_prefer_ceil")}


def _resize(n):
    x = n.tensor(0)
    mode = n.attr("mode", "nearest")
    if mode != "nearest":
        raise LoweringError(f"mode {mode!r} is not supported: only nearest")
    if n.node.op_type == "Upsample":
        scales = n.const_or_attr(1, "scales")
        coord, nearest = "asymmetric", "floor"
    else:
        coord = n.attr("coordinate_transformation_mode",
                       "asymmetric" if n.opset < 11 else "half_pixel")
        nearest = n.attr("nearest_mode", "floor" if n.opset < 11 else "round_prefer_floor")
        scales_input = 1 if n.opset < 11 else 2
        scales = n.const(scales_input, "scales")
        scales = None if scales is None or np.size(scales[1]) == 0 else scales[1]
        if scales is None:
            sizes = n.const(3, "sizes")
            if sizes is None:
                raise LoweringError("neither scales nor sizes are given")
            sizes = [int(s) for s in sizes[1]]
            if len(sizes) != 4 or any(s % d for s, d in zip(sizes, x.shape)):
                raise LoweringError(f"sizes {sizes} are not integer multiples of {x.type}")
            scales = [s // d for s, d in zip(sizes, x.shape)]
    if (coord, nearest) not in _NEAREST_OK:
        raise LoweringError(f"coordinate_transformation_mode={coord!r} with "
                            f"nearest_mode={nearest!r} is not supported")
    return [n.lw.upsample(x, scales, n.name)]


def _shape(n):
    v = n.input(0)
    if v is None:
        raise LoweringError("input 0 is missing")
    shape = np.asarray(shape_of(v), np.int64)
    start, end = n.attr("start", 0), n.attr("end")
    return [shape[start:end]]


def _cast(n):
    onnx = _onnx()
    if _np_dtype(onnx, n.attr("to")) != np.float32:
        raise LoweringError("casting a tensor of the network to a type other than float is not "
                            "supported")
    return [n.tensor(0)]


LOWER = {
    "Conv": _conv,
    "BatchNormalization": _batch_norm,
    "Relu": _activation("relu"),
    "Sigmoid": _activation("sigmoid"),
    "Tanh": _activation("tanh"),
    "HardSwish": _activation("hardswish"),
    "HardSigmoid": _hard_sigmoid,
    "Clip": _clip,
    "Add": _binary("Add"),
    "Sub": _binary("Sub"),
    "Mul": _binary("Mul"),
    "Div": _binary("Div"),
    "Sum": _binary("Sum"),
    "MaxPool": _pool("max"),
    "AveragePool": _pool("avg"),
    "GlobalAveragePool": lambda n: [n.lw.reduce_spatial(n.tensor(0), "global_avg", True, n.name)],
    "GlobalMaxPool": lambda n: [n.lw.reduce_spatial(n.tensor(0), "global_max", True, n.name)],
    "ReduceMean": _reduce("global_avg"),
    "ReduceMax": _reduce("global_max"),
    "Pad": _pad,
    "Concat": _concat,
    "Split": _split,
    "Slice": _slice,
    "Flatten": _flatten,
    "Reshape": _reshape,
    "Squeeze": _squeeze(False),
    "Unsqueeze": _squeeze(True),
    "Transpose": _transpose,
    "Gemm": _gemm,
    "MatMul": _matmul,
    "Softmax": _softmax,
    "Dropout": _dropout,
    "Identity": _identity,
    "Resize": _resize,
    "Upsample": _resize,
    "Shape": _shape,
    "Cast": _cast,
}

SUPPORTED_OPS = sorted(set(LOWER) | set(FOLD))


def _graph_name(model, path):
    # The file's name says more than exporters' graph names ("torch_jit").
    name = os.path.splitext(os.path.basename(path))[0] if path else model.graph.name
    name = re.sub(r"[^A-Za-z0-9_]", "_", name) or "model"
    return name if re.match(r"[A-Za-z_]", name) else "_" + name


def import_model(model, batch=None, path=None):
    """Import an ONNX ``ModelProto`` (or a file ``path`` if ``model`` is None).

    ``batch`` replaces the first dimension of every graph input (default: the
    model's own, 1 where symbolic). Returns ``(graph, params)``: an
    :class:`ios.builder.Graph` and ``{name: float32 ndarray}`` keyed by ONNX
    initializer names (and the derived names of ``docs/Import.md``). Raises
    :class:`ImporterError` naming the first node that cannot be imported.
    """
    onnx = _onnx()
    if model is None:
        try:
            model = onnx.load(path)
        except Exception as e:  # onnx raises DecodeError and OSError alike
            raise ImporterError(f"cannot read ONNX model: {e}")
    gp = model.graph
    opset = next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), 1)
    env = {}
    for init in gp.initializer:
        env[init.name] = Const(onnx.numpy_helper.to_array(init), init.name)
    inputs = []
    for vi in gp.input:
        if vi.name in env:
            continue
        tt = vi.type.tensor_type
        if tt.elem_type != onnx.TensorProto.FLOAT:
            raise ImporterError(f"input {vi.name!r}: only float32 inputs are supported")
        dims = [d.dim_value if d.HasField("dim_value") else None for d in tt.shape.dim]
        if not dims or any(d is None or d < 1 for d in dims[1:]):
            raise ImporterError(f"input {vi.name!r}: shape {dims} must be static but for "
                                f"the batch")
        inputs.append((vi.name, dims))
    if not inputs:
        raise ImporterError("the model has no input")
    if batch is None:
        batch = inputs[0][1][0] or 1
    try:
        lw = Lowering(_graph_name(model, path), batch)
        for name, dims in inputs:
            env[name] = lw.g.input([batch] + dims[1:], name=name, full=True)
    except (LoweringError, BuildError) as e:
        raise ImporterError(str(e))

    for index, node in enumerate(gp.node):
        where = f'node {index} "{node.name or node.op_type + "_" + str(index)}" ({node.op_type})'
        try:
            if node.domain not in ("", "ai.onnx"):
                raise LoweringError(f"unsupported op {node.domain}.{node.op_type}")
            if node.op_type not in LOWER and node.op_type not in FOLD:
                raise LoweringError(f"unsupported op {node.op_type}")
            n = _Node(lw, node, index, opset, env)
            present = [v for v in n.ins if v is not None]
            if node.op_type in FOLD and all(isinstance(v, Const) for v in present) and (
                    present or node.op_type == "Constant"):
                arrays = [None if v is None else v.array for v in n.ins]
                outs = [Const(a, node.output[0] if i == 0 else node.output[i])
                        for i, a in enumerate(FOLD[node.op_type](n, arrays))]
            elif node.op_type in LOWER:
                outs = LOWER[node.op_type](n)
                outs = [Const(v, node.output[i]) if isinstance(v, np.ndarray) else v
                        for i, v in enumerate(outs)]
            else:
                raise LoweringError(f"{node.op_type} is only supported on constants "
                                    f"(shape computations)")
        except (LoweringError, BuildError) as e:
            raise ImporterError(f"{where}: {e}")
        except (KeyError, IndexError, TypeError, ValueError) as e:
            raise ImporterError(f"{where}: malformed node: {e}")
        for name, v in zip(node.output, outs):
            if name:
                env[name] = v
    try:
        outputs = []
        for vi in gp.output:
            v = env.get(vi.name)
            if isinstance(v, Unavailable):
                raise LoweringError(f"output {vi.name!r}: {v.reason}")
            if not isinstance(v, Value):
                raise LoweringError(f"output {vi.name!r} is not a tensor of the network")
            outputs.append(v)
        return lw.finish(outputs)
    except (LoweringError, BuildError) as e:
        raise ImporterError(str(e))
