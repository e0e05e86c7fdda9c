"""PyTorch modules to ``ios`` graphs through torch.fx (independent of ONNX).

Two lines for a user with an ``nn.Module`` in eval mode::

    import ios.torch
    ios.torch.export(model.eval(), torch.randn(1, 3, 224, 224), "out/model")
    # -> out/model.mlir and out/model.safetensors

``torch.fx.symbolic_trace`` records the module's forward; this module walks
the recorded nodes with the example input's static shapes: tensors become
builder values, shape arithmetic (``x.size()``, ``//``...) is evaluated on the
spot, layers are lowered with the same helpers as the ONNX importer
(:mod:`ios.importer.lower`) and rewritten by :mod:`ios.importer.fuse`, so the
two paths give the same graph. Parameter names are the module's
``state_dict`` names (``layer1.0.conv1.weight``) plus the derived names of
``docs/Import.md``. See ``docs/Import.md`` for the supported modules,
functions and methods.
"""

import math
import operator
import os
import re

import numpy as np

from ios.builder import BuildError, Value
from ios.importer import write
from ios.optional import require
from ios.importer.lower import (Const, Grouped, ImporterError, Lowering, LoweringError,
                                Shuffled, clip_activation, shape_of)


def _torch():
    return require("torch.fx", "python3-torch", "ios.torch")


def _is_tensor_like(v):
    return isinstance(v, (Value, Grouped, Shuffled, Const))


def _contains_tensor(v):
    if isinstance(v, (list, tuple)):
        return any(_contains_tensor(x) for x in v)
    if isinstance(v, dict):
        return any(_contains_tensor(x) for x in v.values())
    return _is_tensor_like(v)


def _pair(v):
    return (int(v), int(v)) if isinstance(v, int) else tuple(int(x) for x in v)


def _describe(node):
    t = node.target
    if node.op == "call_module":
        return f"call_module {t}"
    if node.op == "call_method":
        return f"call_method .{t}()"
    if node.op == "call_function":
        mod = getattr(t, "__module__", None) or ""
        return f"call_function {mod + '.' if mod else ''}{getattr(t, '__name__', t)}"
    return node.op


def _shape_tracer(torch):
    """A ``torch.fx.Tracer`` that can run the traced calls on the example
    inputs, so iterating over a shape (``n, c, h, w = x.size()``) and branching
    on shapes work: they are static here. Calls run only when such a value is
    needed (in creation order, up to the node asked for), so most networks
    cost no extra forward pass. Branching on tensor values stays a tracing
    error."""
    fx = torch.fx
    import torch.fx._symbolic_trace as st

    # While tracing, nn.Module.__call__ / __getattr__ are patched to record
    # nodes; the concrete runs use the originals (kept by torch.fx).
    originals = (getattr(st, "_orig_module_call", None), getattr(st, "_orig_module_getattr", None))

    class ShapeTracer(fx.Tracer):
        def __init__(self, example_inputs):
            super().__init__()
            self.example_inputs = list(example_inputs)
            self.pending = []  # (node, kind, target, args, kwargs) not run yet, in order
            self.values = {}

        def _concrete(self, a):
            return fx.node.map_aggregate(
                a, lambda v: self.values.get(v.node) if isinstance(v, fx.Proxy) else v)

        def _run(self, kind, target, cargs, ckwargs):
            if kind == "placeholder":
                return self.example_inputs.pop(0) if self.example_inputs else None
            if kind == "get_attr":
                value = self.root
                for part in target.split("."):
                    value = getattr(value, part)
                return value
            if kind == "call_function":
                return target(*cargs, **ckwargs)
            if kind == "call_method":
                return getattr(cargs[0], target)(*cargs[1:], **ckwargs)
            if kind == "call_module":
                return self.root.get_submodule(target)(*cargs, **ckwargs)
            return None

        def value(self, node):
            """The concrete value of ``node`` (None if it cannot be had)."""
            if node in self.values or None in originals:
                return self.values.get(node)
            patched = (torch.nn.Module.__call__, torch.nn.Module.__getattr__)
            torch.nn.Module.__call__, torch.nn.Module.__getattr__ = originals
            try:
                with torch.no_grad():
                    while self.pending and node not in self.values:
                        n, kind, target, args, kwargs = self.pending.pop(0)
                        try:
                            v = self._run(kind, target, self._concrete(args),
                                          self._concrete(kwargs))
                        except Exception:  # e.g. depends on an unknown value
                            v = None
                        self.values[n] = v
            finally:
                torch.nn.Module.__call__, torch.nn.Module.__getattr__ = patched
            return self.values.get(node)

        def create_proxy(self, kind, target, args, kwargs, *rest, **kw):
            proxy = super().create_proxy(kind, target, args, kwargs, *rest, **kw)
            self.pending.append((proxy.node, kind, target, args, kwargs))
            return proxy

        def iter(self, obj):
            value = self.value(obj.node)
            if isinstance(value, (tuple, list, torch.Size)):
                return iter([obj[i] for i in range(len(value))])
            return super().iter(obj)

        def to_bool(self, obj):
            value = self.value(obj.node)
            if isinstance(value, (bool, int)):
                return bool(value)
            return super().to_bool(obj)

    return ShapeTracer


class _Importer:
    def __init__(self, module, example_inputs, name):
        torch = _torch()
        self.torch = torch
        self.F = torch.nn.functional
        self.nn = torch.nn
        self.module = module
        batch = int(example_inputs[0].shape[0]) if example_inputs[0].dim() else 1
        self.lw = Lowering(name, batch)
        self.g = self.lw.g
        self.example_inputs = example_inputs
        self.state = dict(module.state_dict(keep_vars=True))
        self.modules = dict(module.named_modules())

    # -- helpers ------------------------------------------------------------------

    def tensor(self, v, what="input"):
        if isinstance(v, Value):
            return v
        if isinstance(v, (Grouped, Shuffled)):
            raise LoweringError(f"{what} is a reshaped intermediate {list(shape_of(v))}, only "
                                f"a channel shuffle can use it")
        if isinstance(v, Const):
            raise LoweringError(f"{what} is a constant where a tensor of the network is "
                                f"expected")
        raise LoweringError(f"{what} is {type(v).__name__}, not a tensor")

    def array(self, name, t):
        return name, t.detach().cpu().numpy()

    def param_of(self, mod_name, attr):
        t = getattr(self.modules[mod_name], attr)
        return None if t is None else self.array(f"{mod_name}.{attr}" if mod_name else attr, t)

    # -- layers -------------------------------------------------------------------

    def conv(self, x, mod, target, name):
        if not isinstance(mod, self.nn.Conv2d):
            raise LoweringError("only 2-D convolutions are supported")
        if mod.padding_mode != "zeros":
            raise LoweringError(f"padding_mode={mod.padding_mode!r} is not supported")
        k, d = _pair(mod.kernel_size), _pair(mod.dilation)
        if mod.padding == "valid":
            pads = (0, 0, 0, 0)
        elif mod.padding == "same":  # stride 1: total = d * (k - 1), the extra at the end
            tot = [d[i] * (k[i] - 1) for i in range(2)]
            pads = (tot[0] // 2, tot[1] // 2, tot[0] - tot[0] // 2, tot[1] - tot[1] // 2)
        else:
            ph, pw = _pair(mod.padding)
            pads = (ph, pw, ph, pw)
        return self.lw.conv(x, self.param_of(target, "weight"), self.param_of(target, "bias"),
                            _pair(mod.stride), pads, d, mod.groups, name)

    def batch_norm(self, x, mod, target, name):
        if mod.training or mod.running_mean is None:
            raise LoweringError("batch norm needs running statistics in eval mode")
        c = mod.num_features
        scale = (self.param_of(target, "weight") if mod.affine
                 else (f"{target}.ones", np.ones(c, np.float32)))
        bias = (self.param_of(target, "bias") if mod.affine
                else (f"{target}.zeros", np.zeros(c, np.float32)))
        return self.lw.batch_norm(x, scale, bias, self.param_of(target, "running_mean"),
                                  self.param_of(target, "running_var"), float(mod.eps), name)

    def pool(self, x, kind, kernel, stride, padding, dilation, ceil_mode, count_include_pad,
             name, divisor_override=None, return_indices=False):
        if divisor_override is not None:
            raise LoweringError("divisor_override is not supported")
        if return_indices:
            raise LoweringError("return_indices=True is not supported")
        if _pair(dilation) != (1, 1):
            raise LoweringError(f"dilation {dilation} is not supported for pooling")
        kernel = _pair(kernel)
        stride = kernel if stride is None or stride == [] else _pair(stride)
        ph, pw = _pair(padding)
        return self.lw.pool(self.tensor(x), kind, kernel, stride, (ph, pw, ph, pw),
                            bool(ceil_mode), bool(count_include_pad), name)

    def adaptive_pool(self, x, kind, output_size, name):
        x = self.tensor(x)
        out = _pair(output_size) if output_size is not None else None
        h, w = x.shape[2:]
        out = tuple(h if o is None else o for o in out) if out is not None else None
        if out == (1, 1):
            return self.lw.reduce_spatial(x, "global_" + kind, True, name)
        if out is None or h % out[0] or w % out[1]:
            raise LoweringError(f"adaptive pooling of {h}x{w} to {output_size} is not "
                                f"supported: only to 1x1 or an exact divisor")
        k = (h // out[0], w // out[1])
        return self.lw.pool(x, kind, k, k, (0, 0, 0, 0), False, True, name)

    def reshape_dims(self, x, start_dim, end_dim):
        shape = list(shape_of(x))
        r = len(shape)
        s, e = start_dim % r, end_dim % r
        merged = int(np.prod(shape[s:e + 1], dtype=np.int64))
        return shape[:s] + [merged] + shape[e + 1:]

    def elementwise(self, kind, a, b, name):
        """``a (+ - * /) b``: two tensors, a tensor and a number or a constant
        (a per-channel affine), or plain python arithmetic on shapes."""
        if not _contains_tensor(a) and not _contains_tensor(b):
            return {"add": operator.add, "sub": operator.sub, "mul": operator.mul,
                    "div": operator.truediv}[kind](a, b)
        if isinstance(a, Value) and isinstance(b, Value):
            if kind in ("sub", "div"):
                raise LoweringError(f"{kind} of two tensors is not supported")
            return self.lw.elementwise(kind, [a, b], name)
        if not isinstance(a, Value) and kind in ("add", "mul"):
            a, b = b, a
        x = self.tensor(a, "the tensor operand")
        if not isinstance(b, Const):
            if not isinstance(b, (int, float)):
                raise LoweringError(f"{kind} with {type(b).__name__} is not supported")
            b = Const(np.float32(b), f"{name}.constant")
        return self.lw.affine_constant(x, kind, b, name)

    def split(self, x, sizes, dim, name):
        x = self.tensor(x)
        if dim % x.rank != 1 or x.rank != 4:
            raise LoweringError(f"splitting dimension {dim} of {x.type} is not supported: only "
                                f"channels of 4-D tensors")
        if isinstance(sizes, int):
            sizes = [min(sizes, x.channels - i) for i in range(0, x.channels, sizes)]
        outs, begin = [], 0
        for i, s in enumerate(sizes):
            outs.append(self.lw.channel_slice(x, begin, begin + s, f"{name}.{i}"))
            begin += s
        if begin != x.channels:
            raise LoweringError(f"split sizes {list(sizes)} do not cover {x.channels} channels")
        return tuple(outs)

    def getitem(self, v, index, name):
        if not _is_tensor_like(v):
            return v[index]
        x = self.tensor(v)
        index = index if isinstance(index, tuple) else (index,)
        begin, end = 0, x.channels
        for ax, ix in enumerate(index):
            if ix is Ellipsis:
                raise LoweringError("indexing with ... is not supported")
            if not isinstance(ix, slice):
                raise LoweringError(f"indexing with {ix!r} is not supported: only slices")
            lo, hi, step = ix.indices(x.shape[ax])
            if step != 1:
                raise LoweringError(f"slice step {step} is not supported")
            if ax == 1 and x.rank == 4:
                begin, end = lo, hi
            elif (lo, hi) != (0, x.shape[ax]):
                raise LoweringError(f"slicing dimension {ax} of {x.type} is not supported: "
                                    f"only channel ranges of 4-D tensors")
        if begin >= end:
            raise LoweringError(f"empty channel range [{begin}, {end})")
        return self.lw.channel_slice(x, begin, end, name)

    def activation(self, x, kind, name):
        return self.g.activation(self.tensor(x), kind, name=name)

    def softmax(self, x, dim, name):
        x = self.tensor(x)
        if dim is None or x.rank != 2 or dim % 2 != 1:
            raise LoweringError(f"softmax along dimension {dim} of {x.type} is not supported: "
                                f"only the last dimension of a 2-D tensor")
        return self.g.softmax(x, name=name)

    def mean(self, x, dims, keepdim, name, kind="global_avg"):
        x = self.tensor(x)
        dims = [dims] if isinstance(dims, int) else list(dims)
        if x.rank != 4 or sorted(d % 4 for d in dims) != [2, 3]:
            raise LoweringError(f"reducing dimensions {dims} of {x.type} is not supported: only "
                                f"H and W (2, 3) of a 4-D tensor")
        return self.lw.reduce_spatial(x, kind, bool(keepdim), name)

    def interpolate(self, x, size, scale_factor, mode, align_corners, name):
        x = self.tensor(x)
        if mode != "nearest":
            raise LoweringError(f"mode {mode!r} is not supported: only nearest")
        if size is not None:
            size = _pair(size)
            if size[0] % x.shape[2] or size[1] % x.shape[3]:
                raise LoweringError(f"size {list(size)} is not an integer multiple of {x.type}")
            scale = (size[0] // x.shape[2], size[1] // x.shape[3])
        else:
            scale = scale_factor if isinstance(scale_factor, (tuple, list)) else (
                scale_factor, scale_factor)
        return self.lw.upsample(x, [1, 1, scale[0], scale[1]], name)

    def pad(self, x, pad, mode, value, name):
        x = self.tensor(x)
        if mode != "constant":
            raise LoweringError(f"mode {mode!r} is not supported: only constant padding")
        pad = [int(p) for p in pad] + [0] * (4 - len(pad))
        if len(pad) != 4 or x.rank != 4:
            raise LoweringError(f"padding {pad} of {x.type}: only H and W of a 4-D tensor")
        value = 0.0 if value is None else float(value)
        if not math.isfinite(value):
            raise LoweringError(f"padding value {value} is not supported: it must be finite")
        if min(pad) < 0:
            raise LoweringError(f"negative padding {pad} is not supported")
        if not any(pad):
            return x
        left, right, top, bottom = pad
        return self.g.pad(x, (top, left, bottom, right), value, name=name)

    # -- dispatch -----------------------------------------------------------------

    def call_module(self, node, args, kwargs):
        nn = self.nn
        mod = self.modules[node.target]
        name = node.target
        x = args[0] if args else kwargs.get("input")
        if isinstance(mod, nn.Conv2d):
            return self.conv(self.tensor(x), mod, node.target, name)
        if isinstance(mod, (nn.BatchNorm2d, nn.BatchNorm1d)):
            return self.batch_norm(self.tensor(x), mod, node.target, name)
        kinds = {nn.ReLU: "relu", nn.ReLU6: "relu6", nn.Sigmoid: "sigmoid", nn.Tanh: "tanh",
                 nn.Hardsigmoid: "hardsigmoid", nn.Hardswish: "hardswish", nn.SiLU: "silu"}
        for cls, kind in kinds.items():
            if type(mod) is cls:
                return self.activation(x, kind, name)
        if type(mod) is nn.Hardtanh:
            return self.activation(x, clip_activation(mod.min_val, mod.max_val), name)
        if isinstance(mod, nn.MaxPool2d):
            return self.pool(x, "max", mod.kernel_size, mod.stride, mod.padding, mod.dilation,
                             mod.ceil_mode, True, name, return_indices=mod.return_indices)
        if isinstance(mod, nn.AvgPool2d):
            return self.pool(x, "avg", mod.kernel_size, mod.stride, mod.padding, 1,
                             mod.ceil_mode, mod.count_include_pad, name, mod.divisor_override)
        if isinstance(mod, nn.AdaptiveAvgPool2d):
            return self.adaptive_pool(x, "avg", mod.output_size, name)
        if isinstance(mod, nn.AdaptiveMaxPool2d):
            if mod.return_indices:
                raise LoweringError("return_indices=True is not supported")
            return self.adaptive_pool(x, "max", mod.output_size, name)
        if isinstance(mod, nn.Linear):
            return self.lw.linear(self.tensor(x), self.param_of(node.target, "weight"),
                                  self.param_of(node.target, "bias"), name)
        if isinstance(mod, nn.Flatten):
            return self.lw.reshape(x, self.reshape_dims(x, mod.start_dim, mod.end_dim), name)
        if isinstance(mod, (nn.Dropout, nn.Dropout2d, nn.AlphaDropout, nn.Identity)):
            return x
        if isinstance(mod, nn.Softmax):
            return self.softmax(x, mod.dim, name)
        if isinstance(mod, nn.Upsample):
            return self.interpolate(x, mod.size, mod.scale_factor, mod.mode, mod.align_corners,
                                    name)
        if isinstance(mod, nn.ChannelShuffle):
            return self.g.channel_shuffle(self.tensor(x), mod.groups, name=name)
        if isinstance(mod, (nn.ZeroPad2d, nn.ConstantPad2d)):
            return self.pad(x, mod.padding, "constant", getattr(mod, "value", 0.0), name)
        raise LoweringError(f"unsupported module {type(mod).__module__}.{type(mod).__name__}")

    def call_function(self, node, args, kwargs):
        torch, F = self.torch, self.F
        t = node.target
        name = node.name

        def arg(i, key, default=None):
            return args[i] if len(args) > i else kwargs.get(key, default)

        acts = {torch.relu: "relu", F.relu: "relu", torch.relu_: "relu", F.relu_: "relu",
                F.relu6: "relu6", torch.sigmoid: "sigmoid", F.sigmoid: "sigmoid",
                torch.tanh: "tanh", F.tanh: "tanh", F.hardsigmoid: "hardsigmoid",
                F.hardswish: "hardswish", F.silu: "silu"}
        if t in acts:
            return self.activation(args[0], acts[t], name)
        if t in (F.hardtanh, torch.clamp, torch.clip):
            lo, hi = (arg(1, "min_val", -1.0), arg(2, "max_val", 1.0)) if t is F.hardtanh \
                else (arg(1, "min"), arg(2, "max"))
            return self.activation(args[0], clip_activation(lo, hi), name)
        if t in (torch.cat, torch.concat):
            xs = [self.tensor(v) for v in arg(0, "tensors")]
            dim = arg(1, "dim", 0)
            if xs[0].rank != 4 or dim % 4 != 1:
                raise LoweringError(f"concatenation along dimension {dim} of {xs[0].type} is "
                                    f"not supported: only channels of 4-D tensors")
            return xs[0] if len(xs) == 1 else self.g.concat(xs, name=name)
        if t is torch.flatten:
            x = args[0]
            return self.lw.reshape(x, self.reshape_dims(x, arg(1, "start_dim", 0),
                                                        arg(2, "end_dim", -1)), name)
        binary = {operator.add: "add", torch.add: "add", operator.iadd: "add",
                  operator.mul: "mul", torch.mul: "mul", operator.imul: "mul",
                  operator.sub: "sub", torch.sub: "sub", operator.truediv: "div",
                  torch.div: "div"}
        if t in binary:
            if t in (torch.add, torch.sub) and kwargs.get("alpha", 1) != 1:
                raise LoweringError("alpha != 1 is not supported")
            return self.elementwise(binary[t], args[0], args[1], name)
        if t in (F.adaptive_avg_pool2d, F.adaptive_max_pool2d):
            kind = "avg" if t is F.adaptive_avg_pool2d else "max"
            return self.adaptive_pool(args[0], kind, arg(1, "output_size"), name)
        if t is F.max_pool2d or t is torch.max_pool2d:
            return self.pool(args[0], "max", arg(1, "kernel_size"), arg(2, "stride"),
                             arg(3, "padding", 0), arg(4, "dilation", 1),
                             arg(5, "ceil_mode", False), True, name,
                             return_indices=arg(6, "return_indices", False))
        if t is F.avg_pool2d:
            return self.pool(args[0], "avg", arg(1, "kernel_size"), arg(2, "stride"),
                             arg(3, "padding", 0), 1, arg(4, "ceil_mode", False),
                             arg(5, "count_include_pad", True), name,
                             arg(6, "divisor_override"))
        if t in (F.dropout, F.dropout2d, torch.dropout):
            training = arg(2, "train") if t is torch.dropout else arg(2, "training", True)
            if training:
                raise LoweringError("dropout in training mode is not supported")
            return args[0]
        if getattr(t, "__name__", "") == "stochastic_depth" and \
                getattr(t, "__module__", "").startswith("torchvision"):
            if arg(3, "training", True):
                raise LoweringError("stochastic depth in training mode is not supported")
            return args[0]
        if t is operator.getitem:
            return self.getitem(args[0], args[1], name)
        if t is getattr:
            obj, attr = args[0], args[1]
            if _is_tensor_like(obj):
                if attr == "shape":
                    return tuple(shape_of(obj))
                raise LoweringError(f"tensor attribute {attr!r} is not supported")
            return getattr(obj, attr)
        if t in (torch.transpose, torch.swapaxes):
            x = args[0]
            perm = list(range(len(shape_of(x))))
            d0, d1 = (int(d) % len(perm) for d in args[1:3])
            perm[d0], perm[d1] = perm[d1], perm[d0]
            return self.lw.transpose(x, perm)
        if t is torch.permute:
            return self.lw.transpose(args[0], arg(1, "dims"))
        if t is torch.reshape:
            return self.reshape(args[0], arg(1, "shape"), name)
        if t in (torch.chunk,):
            return self.chunk(args[0], arg(1, "chunks"), arg(2, "dim", 0), name)
        if t is torch.split:
            return self.split(args[0], arg(1, "split_size_or_sections"), arg(2, "dim", 0), name)
        if t is torch.mean:
            return self.mean(args[0], arg(1, "dim"), arg(2, "keepdim", False), name)
        if t in (torch.softmax, F.softmax):
            return self.softmax(args[0], arg(1, "dim"), name)
        if t is F.interpolate:
            return self.interpolate(args[0], arg(1, "size"), arg(2, "scale_factor"),
                                    arg(3, "mode", "nearest"), arg(4, "align_corners"), name)
        if t is F.pad:
            return self.pad(args[0], arg(1, "pad"), arg(2, "mode", "constant"),
                            arg(3, "value"), name)
        if t in (F.channel_shuffle, torch.channel_shuffle):
            return self.g.channel_shuffle(self.tensor(args[0]), arg(1, "groups"), name=name)
        if not _contains_tensor(args) and not _contains_tensor(kwargs):
            return t(*args, **kwargs)  # shape arithmetic: python values
        raise LoweringError("unsupported function")

    def reshape(self, x, shape, name):
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = shape[0]
        return self.lw.reshape(x, [int(d) for d in shape], name)

    def chunk(self, x, chunks, dim, name):
        x = self.tensor(x)
        c = x.shape[dim % x.rank]
        size = -(-c // int(chunks))
        return self.split(x, size, dim, name)

    def call_method(self, node, args, kwargs):
        m = node.target
        name = node.name
        x = args[0]
        if not _is_tensor_like(x):
            return getattr(x, m)(*args[1:], **kwargs)

        def arg(i, key, default=None):
            return args[i] if len(args) > i else kwargs.get(key, default)

        if m == "size":
            shape = tuple(shape_of(x))
            d = arg(1, "dim")
            return shape if d is None else shape[d]
        if m == "dim":
            return len(shape_of(x))
        if m in ("view", "reshape"):
            return self.reshape(x, args[1:], name)
        if m == "contiguous":
            return x
        if m == "flatten":
            return self.lw.reshape(x, self.reshape_dims(x, arg(1, "start_dim", 0),
                                                        arg(2, "end_dim", -1)), name)
        if m in ("transpose", "swapaxes"):
            perm = list(range(len(shape_of(x))))
            d0, d1 = (int(d) % len(perm) for d in args[1:3])
            perm[d0], perm[d1] = perm[d1], perm[d0]
            return self.lw.transpose(x, perm)
        if m == "permute":
            dims = args[1:]
            if len(dims) == 1 and isinstance(dims[0], (tuple, list)):
                dims = dims[0]
            return self.lw.transpose(x, dims)
        if m == "chunk":
            return self.chunk(x, arg(1, "chunks"), arg(2, "dim", 0), name)
        if m == "split":
            return self.split(x, arg(1, "split_size"), arg(2, "dim", 0), name)
        if m == "mean":
            return self.mean(x, arg(1, "dim"), arg(2, "keepdim", False), name)
        if m in ("relu", "relu_", "sigmoid", "sigmoid_", "tanh", "tanh_"):
            return self.activation(x, m.rstrip("_"), name)
        if m in ("clamp", "clip", "clamp_"):
            return self.activation(x, clip_activation(arg(1, "min"), arg(2, "max")), name)
        if m in ("add", "add_", "mul", "mul_", "sub", "div"):
            return self.elementwise(m.rstrip("_"), x, args[1], name)
        if m == "softmax":
            return self.softmax(x, arg(1, "dim"), name)
        raise LoweringError("unsupported method")

    def run(self):
        torch = self.torch
        try:
            tracer = _shape_tracer(torch)(self.example_inputs)
            graph = tracer.trace(self.module)
            traced = torch.fx.GraphModule(tracer.root, graph)
        except Exception as e:  # tracing runs arbitrary user code
            raise ImporterError(f"torch.fx cannot trace the module: {type(e).__name__}: {e}")
        env = {}
        inputs = list(self.example_inputs)
        outputs = None
        for index, node in enumerate(traced.graph.nodes):
            where = f'FX node {index} "{node.name}" ({_describe(node)})'
            try:
                args = torch.fx.node.map_arg(node.args, lambda n: env[n])
                kwargs = torch.fx.node.map_arg(node.kwargs, lambda n: env[n])
                if node.op == "placeholder":
                    if not inputs:
                        raise LoweringError("no example input for this argument")
                    x = inputs.pop(0)
                    env[node] = self.g.input(tuple(x.shape), name=node.name, full=True)
                elif node.op == "get_attr":
                    obj = traced
                    for part in node.target.split("."):
                        obj = getattr(obj, part)
                    env[node] = (Const(obj.detach().cpu().numpy(), node.target)
                                 if isinstance(obj, torch.Tensor) else obj)
                elif node.op == "call_module":
                    env[node] = self.call_module(node, args, kwargs)
                elif node.op == "call_function":
                    env[node] = self.call_function(node, args, kwargs)
                elif node.op == "call_method":
                    env[node] = self.call_method(node, args, kwargs)
                elif node.op == "output":
                    outputs = args[0]
                else:
                    raise LoweringError(f"unsupported node kind {node.op}")
            except (LoweringError, BuildError) as e:
                raise ImporterError(f"{where}: {e}")
        if inputs:
            raise ImporterError(f"{len(inputs)} example inputs more than the module's "
                                f"forward arguments")
        outs = list(outputs) if isinstance(outputs, (tuple, list)) else [outputs]
        try:
            return self.lw.finish(outs)
        except (LoweringError, BuildError) as e:
            raise ImporterError(str(e))


def import_module(module, example_input, name=None):
    """Import ``module`` (an ``nn.Module`` in eval mode) traced with torch.fx.

    ``example_input`` is a tensor (or a tuple of tensors, one per forward
    argument) whose shapes, batch included, fix the graph's types. Returns
    ``(graph, params)``; raises :class:`ImporterError` naming the FX node that
    cannot be imported.
    """
    torch = _torch()
    if module.training:
        raise ImporterError("the module is in training mode: call .eval() first")
    inputs = example_input if isinstance(example_input, (tuple, list)) else (example_input,)
    if not inputs or not all(isinstance(x, torch.Tensor) and x.dtype == torch.float32
                             for x in inputs):
        raise ImporterError("example inputs must be float32 tensors")
    if name is None:
        name = re.sub(r"[^A-Za-z0-9_]", "_", type(module).__name__.lower())
    try:
        importer = _Importer(module, list(inputs), name)
    except (LoweringError, BuildError) as e:
        raise ImporterError(str(e))
    with torch.no_grad():
        return importer.run()


def export(module, example_input, path, name=None):
    """Import ``module`` (see :func:`import_module`) and write ``<path>.mlir``
    and ``<path>.safetensors`` (a trailing ``.mlir`` of ``path`` is dropped).
    Returns ``(graph, params)``."""
    stem = path[:-5] if str(path).endswith(".mlir") else str(path)
    if name is None:
        name = re.sub(r"[^A-Za-z0-9_]", "_", os.path.basename(stem)) or None
        if name and not re.match(r"[A-Za-z_]", name):
            name = "_" + name
    graph, params = import_module(module, example_input, name)
    write(graph, params, stem + ".mlir", stem + ".safetensors",
          {"source": type(module).__name__, "importer": "ios.torch (torch.fx)"})
    return graph, params
