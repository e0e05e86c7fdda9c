"""Numerical reference: evaluate a built graph with PyTorch on the CPU.

One interpreter for every network: :func:`run` walks the ops of an
:class:`ios.builder.Graph` in order and evaluates each with
``torch.nn.functional`` (conv with bias and fused activation; max pooling pads
with -inf; average pooling counts padding, like cuDNN's
``AVERAGE_COUNT_INCLUDE_PADDING``). Parameters come from a ``{name: ndarray}``
map, usually read from the safetensors file ``python3 -m ios.zoo MODEL
--weights FILE`` wrote.

Command line::

    python3 -m ios.reference MODEL [--batch N] [--weights W.safetensors]
        [--seed S] [--input X.safetensors | --save-input X.safetensors]
        [--output Y.safetensors] [--threads T] [--stats]

Without ``--weights`` the parameters are generated from ``--seed`` (the same
values ``ios.zoo --weights`` writes for that seed); without ``--input`` the
input is standard normal from ``--seed``. Input and output files are
safetensors with the tensors ``input`` / ``output`` (``output0``, ``output1``...
for several results).
"""

import argparse
import os
import sys
import time
import zlib

import numpy as np

from ios import safetensors
from ios.optional import require
from ios import cli


def _torch():
    return require("torch", "python3-torch", "ios.reference")


class ReferenceError(ValueError):
    """Weights or inputs do not match the graph."""


def check_params(graph, params):
    """Raise :class:`ReferenceError` unless ``params`` holds exactly the graph's
    parameters with the right shapes."""
    missing, wrong = [], []
    names = set()
    for a in graph.params:
        names.add(a.name)
        t = params.get(a.name)
        if t is None:
            missing.append(a.name)
        elif tuple(t.shape) != a.shape:
            wrong.append(f"{a.name}: file {list(t.shape)}, graph {list(a.shape)}")
    extra = sorted(set(params) - names)
    problems = []
    if missing:
        problems.append(f"{len(missing)} missing (e.g. {missing[0]})")
    if wrong:
        problems.append(f"{len(wrong)} with wrong shapes (e.g. {wrong[0]})")
    if extra:
        problems.append(f"{len(extra)} unknown (e.g. {extra[0]})")
    if problems:
        raise ReferenceError(f"weights do not match graph {graph.name!r}: " + "; ".join(problems))


def random_input(graph, seed=0):
    """Standard-normal float32 input for ``graph`` from ``seed``: an array, or a
    list of arrays (input order) for a graph with several inputs."""
    xs = []
    for i, arg in enumerate(graph.inputs):
        key = b"input" if i == 0 else arg.name.encode()  # the first: as zoo graphs always had
        rng = np.random.default_rng([int(seed) & 0xFFFFFFFF, zlib.crc32(key)])
        xs.append(rng.standard_normal(arg.shape, dtype=np.float32))
    return xs[0] if len(xs) == 1 else xs


def _act(torch, x, act):
    F = torch.nn.functional
    if act == "none":
        return x
    if act == "relu":
        return torch.relu(x)
    if act == "sigmoid":
        return torch.sigmoid(x)
    if act == "tanh":
        return torch.tanh(x)
    if act == "relu6":
        return F.relu6(x)
    if act == "hardsigmoid":  # relu6(x + 3) / 6
        return F.hardsigmoid(x)
    if act == "hardswish":  # x * hardsigmoid(x)
        return F.hardswish(x)
    if act == "silu":  # x * sigmoid(x)
        return F.silu(x)
    raise ReferenceError(f"unknown activation {act!r}")


def eval_op(op, args, params):
    """Evaluate one op on torch tensors ``args`` (its non-parameter operands)."""
    torch = _torch()
    F = torch.nn.functional
    a = op.attrs
    k = op.kind
    if k == "conv2d":
        w, b = (params[p.name] for p in op.params)
        y = F.conv2d(args[0], w, b, stride=a["strides"], padding=a["padding"],
                     dilation=a["dilations"], groups=a["groups"])
        return _act(torch, y, a["act"])
    if k == "pool2d":
        kind = a["kind"]
        x = args[0]
        ceil_mode = a.get("ceil_mode", False)
        if kind == "max":
            return F.max_pool2d(x, a["kernel"], a["strides"], a["padding"],
                                ceil_mode=ceil_mode)
        if kind == "avg":
            return F.avg_pool2d(x, a["kernel"], a["strides"], a["padding"], ceil_mode=ceil_mode,
                                count_include_pad=a.get("count_include_pad", True))
        if kind == "global_avg":
            return x.mean(dim=(2, 3), keepdim=True)
        if kind == "global_max":
            return x.amax(dim=(2, 3), keepdim=True)
    if k == "activation":
        return _act(torch, args[0], a["kind"])
    if k == "add":  # torch broadcasts (N, C, 1, 1) operands like the op does
        y = args[0] + args[1]
        for t in args[2:]:
            y = y + t
        return y
    if k == "mul":
        return args[0] * args[1]
    if k == "concat":
        return torch.cat(args, dim=1)
    if k == "slice":
        return args[0][:, a["begin"]:a["end"]]
    if k == "flatten":
        return args[0].reshape(args[0].shape[0], -1)
    if k == "linear":
        w, b = (params[p.name] for p in op.params)
        return F.linear(args[0], w, b)
    if k == "softmax":
        return torch.softmax(args[0], dim=-1)
    if k == "pad":
        top, left, bottom, right = a["pads"]
        return F.pad(args[0], (left, right, top, bottom), value=a["value"])
    if k == "affine":
        scale, shift = (params[p.name] for p in op.params)
        view = (1, -1) + (1,) * (args[0].dim() - 2)
        return args[0] * scale.view(view) + shift.view(view)
    if k == "upsample":
        sh, sw = a["scale"]
        return args[0].repeat_interleave(sh, dim=2).repeat_interleave(sw, dim=3)
    if k == "channel_shuffle":
        x = args[0]
        n, c, h, w = x.shape
        g = a["groups"]
        return x.reshape(n, g, c // g, h, w).transpose(1, 2).reshape(n, c, h, w)
    raise ReferenceError(f"cannot evaluate {op.mnemonic}")


def _inputs(graph, x):
    """``x`` as one float32 ndarray per graph input: an array (one input), a
    list in input order, or a dict keyed by input name."""
    args = graph.inputs
    if isinstance(x, dict):
        missing = [a.name for a in args if a.name not in x]
        extra = sorted(set(x) - {a.name for a in args})
        if missing or extra:
            raise ReferenceError(f"inputs do not match graph {graph.name!r}: missing "
                                 f"{missing}, unknown {extra}")
        xs = [x[a.name] for a in args]
    elif isinstance(x, (list, tuple)):
        xs = list(x)
    else:
        xs = [x]
    if len(xs) != len(args):
        raise ReferenceError(f"graph {graph.name!r} has {len(args)} inputs, got {len(xs)}")
    return xs


def run(graph, params, x, observe=None):
    """Evaluate ``graph`` on input ``x`` with ``params``.

    ``x`` is an ndarray or tensor (one input), or a list (input order) or a
    dict (by input name) of them. Returns the list of output tensors (float32
    torch tensors). ``observe``, if given, is called as ``observe(op, result)``
    after every op. Intermediate results are freed after their last use.
    """
    torch = _torch()
    check_params(graph, params)
    env = {}
    for arg, xi in zip(graph.inputs, _inputs(graph, x)):
        t = torch.as_tensor(np.asarray(xi, dtype=np.float32))
        if tuple(t.shape) != arg.shape:
            raise ReferenceError(f"input {arg.name!r} has shape {list(t.shape)}, graph "
                                 f"{graph.name!r} expects {list(arg.shape)}")
        env[id(arg.value)] = t
    tparams = {a.name: torch.as_tensor(np.asarray(params[a.name], dtype=np.float32))
               for a in graph.params}
    last_use = {}
    for i, op in enumerate(graph.ops):
        for v in op.inputs:
            last_use[id(v)] = i
    keep = {id(v) for v in graph.outputs}
    with torch.no_grad():
        for i, op in enumerate(graph.ops):
            args = [env[id(v)] for v in op.inputs]
            y = eval_op(op, args, tparams)
            if tuple(y.shape) != op.result.shape:  # the builder's shape rules disagree
                raise ReferenceError(f"{op.name}: torch gives {list(y.shape)}, "
                                     f"graph says {list(op.result.shape)}")
            env[id(op.result)] = y
            if observe is not None:
                observe(op, y)
            for v in op.inputs:
                if last_use.get(id(v)) == i and id(v) not in keep:
                    env.pop(id(v), None)
    return [env[id(v)] for v in graph.outputs]


def positive_int(text):
    """argparse type: a positive integer (batch sizes, thread counts)."""
    try:
        v = int(text)
    except ValueError:
        v = 0
    if v < 1:
        raise argparse.ArgumentTypeError(
            f"invalid value {text!r}: must be a positive integer")
    return v


def _input_tensors(graph, path):
    """Inputs from a safetensors file: tensor ``input`` (or the only tensor)
    for one graph input, tensors named like the inputs for several."""
    tensors, _ = safetensors.load(path)
    if len(graph.inputs) == 1:
        x = tensors.get("input")
        if x is None:
            if len(tensors) != 1:
                raise ReferenceError(f"{path}: expected a tensor named 'input'")
            x = next(iter(tensors.values()))
        return x
    return tensors  # keyed by input names: run() names missing or unknown ones


def main(argv=None):
    from ios import zoo

    p = argparse.ArgumentParser(
        prog=cli.prog("ios.reference"),
        description="Evaluate a zoo network or a graph-level .mlir file with PyTorch (CPU) "
                    "from safetensors weights.")
    p.add_argument("model", metavar="MODEL",
                   help="a zoo model (" + ", ".join(zoo.MODELS) + ") or a graph-level .mlir "
                        "file (then --weights is required and --batch does not apply)")
    p.add_argument("--batch", type=positive_int, default=None,
                   help="batch size of a zoo model (default 1)")
    p.add_argument("--weights", metavar="FILE",
                   help="safetensors parameters (default: generated from --seed)")
    p.add_argument("--seed", type=int, default=0,
                   help="seed of generated weights / input (default 0)")
    p.add_argument("--input", metavar="FILE",
                   help="safetensors file with the input tensor ('input'; for several inputs "
                        "one tensor per input name)")
    p.add_argument("--save-input", metavar="FILE", help="write the (generated) input here")
    p.add_argument("--output", "-o", metavar="FILE", help="write the outputs here (safetensors)")
    p.add_argument("--threads", type=positive_int, default=os.cpu_count() or 1,
                   help="torch CPU threads (default: all CPUs)")
    p.add_argument("--stats", action="store_true",
                   help="print the RMS of every op's result (activation scales)")
    args = p.parse_args(argv)

    from_file = args.model.endswith(".mlir")
    if from_file:
        if args.weights is None:
            p.error("a .mlir model needs --weights")
        if args.batch is not None:
            p.error("--batch applies to zoo models only (a .mlir file fixes its batch)")
    elif args.model not in zoo.MODELS:
        p.error(f"argument MODEL: unknown model {args.model!r} (a zoo model: "
                f"{', '.join(zoo.MODELS)}, or a .mlir file)")
    torch = _torch()
    torch.set_num_threads(args.threads)
    try:
        if from_file:
            from ios import mlir_reader
            graph = mlir_reader.read(args.model)
        else:
            graph = zoo.build(args.model, batch=args.batch or 1)
        if args.weights:
            params, _ = safetensors.load(args.weights)
        else:
            params = graph.random_params(args.seed)
        if args.input:
            x = _input_tensors(graph, args.input)
        else:
            x = random_input(graph, args.seed)
        meta = {"model": os.path.basename(args.model), "batch": str(graph.batch)}
        if args.save_input:
            xs = x if isinstance(x, (list, dict)) else [x]
            if isinstance(xs, list):
                names = ["input"] if len(xs) == 1 else [a.name for a in graph.inputs]
                xs = dict(zip(names, xs))
            safetensors.save(args.save_input, xs, meta)
        observe = None
        if args.stats:
            def observe(op, y):
                rms = float(torch.sqrt(torch.mean(y.double() ** 2)))
                print(f"rms {rms:12.5g}  {op.mnemonic:15s} {op.name}")
        t0 = time.perf_counter()
        outs = run(graph, params, x, observe)
        dt = time.perf_counter() - t0
    except Exception as e:
        from ios.mlir_reader import MlirReadError
        if not isinstance(e, (ReferenceError, safetensors.SafetensorsError, MlirReadError,
                              OSError)):
            raise
        print(f"error: {e}", file=sys.stderr)
        return 1
    for i, y in enumerate(outs):
        a = y.numpy()
        print(f"output{i}: shape {list(a.shape)} mean {a.mean():.6g} std {a.std():.6g} "
              f"min {a.min():.6g} max {a.max():.6g} finite {bool(np.isfinite(a).all())}")
    print(f"time: {dt:.3f} s ({torch.get_num_threads()} threads)")
    if args.output:
        names = ["output"] if len(outs) == 1 else [f"output{i}" for i in range(len(outs))]
        safetensors.save(args.output, {n: y.numpy() for n, y in zip(names, outs)}, meta)
    return 0


if __name__ == "__main__":
    sys.exit(main())
