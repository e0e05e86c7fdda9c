"""Rewrites of imported graphs (both importers run them, in this order).

1. dead ops (results used by nothing, e.g. unused outputs of a split) go;
   a symmetric ``ios.pad`` used only by a convolution (zero padding), an
   ``avg`` pool counting padding (zero padding) or a ``max`` pool (padding with
   the most negative f32), neither in ceil_mode, becomes the consumer's own
   padding where the pool's padding stays within half its kernel (exporters
   write PyTorch's padded average pools as Pad + AveragePool);
   a concatenation used only as an operand of another concatenation is
   inlined into it (exporters flatten nested concatenations);
2. an ``ios.affine`` (an inference batch norm, or a per-channel constant
   scale/shift) whose input is the result of an ``ios.conv2d`` / ``ios.linear``
   without activation, used by nothing else, is folded into its weights:
   ``W' = W * scale[o]``, ``b' = b * scale + shift``, as new parameters
   ``<W>.folded`` and ``<W>.folded_bias`` (``_1``, ``_2``... if taken);
3. ``x * sigmoid(x)`` becomes ``silu(x)`` and ``x * hardsigmoid(x)``
   ``hardswish(x)`` (when the activation's result is used only there);
4. an ``ios.activation`` whose input is the result of an ``ios.conv2d``
   without activation, used by nothing else, becomes the conv's ``act``;
5. parameters no op uses any more are dropped.

Folding is computed in float64 from the float64 parameters the importers
keep until the end.
"""

import numpy as np


def _single_use(graph, value):
    """``value`` feeds exactly one op operand and is not a graph result."""
    if any(v is value for v in graph.outputs):
        return False
    return sum(1 for op in graph.ops for v in op.operands if v is value) == 1


def _unique_name(params, name):
    base, i = name, 1
    while name in params:
        name = f"{base}_{i}"
        i += 1
    return name


def remove_dead_ops(graph):
    live = {id(v) for v in graph.outputs}
    for op in reversed(list(graph.ops)):
        if id(op.result) in live:
            live.update(id(v) for v in op.operands)
        else:
            graph.erase_op(op)


_MOST_NEGATIVE_F32 = -3.4028234663852886e38


def fold_pads(graph):
    users = graph.users()
    for op in list(graph.ops):
        if op.kind != "pad":
            continue
        t, l, b, r = op.attrs["pads"]
        consumers = users.get(id(op.result), [])
        if t != b or l != r or len(consumers) != 1 or any(
                v is op.result for v in graph.outputs):
            continue
        c = consumers[0]
        if c.operands[0] is not op.result:
            continue
        value = op.attrs["value"]
        if c.kind == "conv2d":
            ok = value == 0.0
        elif c.kind == "pool2d" and c.attrs["kind"] in ("avg", "max") and not c.attrs.get(
                "ceil_mode"):
            kh, kw = c.attrs["kernel"]
            ph, pw = c.attrs["padding"]
            ok = (ph + t <= kh // 2 and pw + l <= kw // 2 and (
                (c.attrs["kind"] == "avg" and value == 0.0
                 and c.attrs.get("count_include_pad", True))
                or (c.attrs["kind"] == "max" and value <= _MOST_NEGATIVE_F32)))
        else:
            ok = False
        if ok:
            ph, pw = c.attrs["padding"]
            c.attrs["padding"] = (ph + t, pw + l)
            c.operands[0] = op.operands[0]
            graph.erase_op(op)


def flatten_concats(graph):
    for op in list(graph.ops):
        if op.kind != "concat":
            continue
        inner = [v for v in op.operands if v.op is not None and v.op.kind == "concat"
                 and _single_use(graph, v)]
        if not inner:
            continue
        operands = []
        for v in op.operands:
            operands += v.op.operands if v in inner else [v]
        op.operands = operands
        for v in inner:
            graph.erase_op(v.op)


def fold_affines(graph, params):
    for op in list(graph.ops):
        if op.kind != "affine":
            continue
        x = op.operands[0]
        producer = x.op
        if (producer is None or producer.kind not in ("conv2d", "linear")
                or producer.attrs.get("act", "none") != "none" or not _single_use(graph, x)):
            continue
        w, b = producer.operands[1:3]
        scale, shift = (np.asarray(params[v.arg.name], np.float64) for v in op.operands[1:3])
        wf = np.asarray(params[w.arg.name], np.float64)
        wf = wf * scale.reshape((-1,) + (1,) * (wf.ndim - 1))
        bf = np.asarray(params[b.arg.name], np.float64) * scale + shift
        wname = _unique_name(params, w.arg.name + ".folded")
        params[wname] = wf
        bname = _unique_name(params, w.arg.name + ".folded_bias")
        params[bname] = bf
        producer.operands[1:3] = [graph.param(wname, wf.shape, ("given",)),
                                  graph.param(bname, bf.shape, ("given",))]
        graph.replace_all_uses(op.result, x)
        graph.erase_op(op)


_GATED = {"sigmoid": "silu", "hardsigmoid": "hardswish"}


def gated_activations(graph):
    for op in list(graph.ops):
        if op.kind != "mul" or op.operands[0].shape != op.operands[1].shape:
            continue
        for gate, x in (op.operands, reversed(op.operands)):
            act = gate.op
            if (act is not None and act.kind == "activation" and act.attrs["kind"] in _GATED
                    and act.operands[0] is x and _single_use(graph, gate)):
                op.kind = "activation"
                op.attrs = {"kind": _GATED[act.attrs["kind"]]}
                op.operands = [x]
                graph.erase_op(act)
                break


def fuse_activations(graph):
    for op in list(graph.ops):
        if op.kind != "activation":
            continue
        x = op.operands[0]
        producer = x.op
        if (producer is None or producer.kind != "conv2d" or producer.attrs["act"] != "none"
                or not _single_use(graph, x)):
            continue
        producer.attrs["act"] = op.attrs["kind"]
        graph.replace_all_uses(op.result, x)
        graph.erase_op(op)


def run(graph, params):
    """All rewrites, in order; ``params`` (name -> ndarray) gains the folded
    parameters and loses the unused ones."""
    remove_dead_ops(graph)
    fold_pads(graph)
    flatten_concats(graph)
    fold_affines(graph, params)
    gated_activations(graph)
    fuse_activations(graph)
    for name in graph.erase_unused_params():
        params.pop(name, None)
    # Parameters in order of first use (folded ones were appended).
    first = {}
    for i, op in enumerate(graph.ops):
        for v in op.operands:
            first.setdefault(id(v), i)
    graph.args.sort(key=lambda a: (not a.is_input, first.get(id(a.value), -1) if not a.is_input
                                   else 0))
