"""ONNX import: per-op graphs made with onnx.helper, imported, evaluated by
ios.reference and compared with the same computation written by hand in
torch; the rewrites (BN folding, activation fusion, pad folding); every
rejected op / attribute with its exact message and no file written."""

import os
import subprocess
import sys
import tempfile
import unittest

import numpy as np

try:
    import onnx
    from onnx import TensorProto, helper, numpy_helper
    import torch
    import torch.nn.functional as F
    torch.set_num_threads(2)
except ImportError:  # pragma: no cover
    onnx = None

if onnx is not None:
    from ios import reference
    from ios.importer import ImporterError, import_onnx

PYTHON_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RNG = np.random.default_rng(7)


def rand(*shape, scale=1.0, offset=0.0):
    return (RNG.standard_normal(shape) * scale + offset).astype(np.float32)


def model(nodes, inputs, outputs, inits=None, opset=13):
    """An ONNX model: ``inputs`` / ``outputs`` are (name, shape) pairs."""
    g = helper.make_graph(
        nodes, "test",
        [helper.make_tensor_value_info(n, TensorProto.FLOAT, s) for n, s in inputs],
        [helper.make_tensor_value_info(n, TensorProto.FLOAT, s) for n, s in outputs],
        [numpy_helper.from_array(np.asarray(v), k) for k, v in (inits or {}).items()])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)])

    return m


def node(op, ins, outs, name=None, **attrs):
    return helper.make_node(op, ins, outs, name=name or op.lower(), **attrs)


@unittest.skipIf(onnx is None, "needs python3-onnx and python3-torch")
class OpTest(unittest.TestCase):
    def check(self, m, x, expected, kinds=None, tol=1e-5):
        """Import ``m``, run it on ``x`` and compare with ``expected`` (ndarray
        or list); ``kinds``: the expected op kinds of the imported graph."""
        g, params = import_onnx(m)
        outs = reference.run(g, params, x)
        expected = expected if isinstance(expected, list) else [expected]
        self.assertEqual(len(outs), len(expected))
        for y, e in zip(outs, expected):
            e = np.asarray(e)
            self.assertEqual(tuple(y.shape), e.shape)
            err = np.abs(y.numpy() - e).max() / max(np.abs(e).max(), 1e-30)
            self.assertLessEqual(err, tol)
        if kinds is not None:
            self.assertEqual([op.kind if op.kind not in ("activation", "pool2d")
                              else f"{op.kind}:{op.attrs['kind']}" for op in g.ops], kinds)
        return g

    def test_conv(self):
        x = rand(2, 4, 9, 10)
        w, b = rand(6, 2, 3, 3), rand(6)
        for pads in ([1, 1, 1, 1], [0, 1, 2, 1], [2, 0, 0, 1]):
            with self.subTest(pads=pads):
                m = model([node("Conv", ["x", "w", "b"], ["y"], group=2, strides=[2, 1],
                                dilations=[1, 2], pads=pads)],
                          [("x", x.shape)], [("y", None)], {"w": w, "b": b})
                t, l, bo, r = pads
                e = F.conv2d(F.pad(torch.tensor(x), (l, r, t, bo)), torch.tensor(w),
                             torch.tensor(b), stride=(2, 1), dilation=(1, 2), groups=2)
                sym = pads[0] == pads[2] and pads[1] == pads[3]
                g = self.check(m, x, e.numpy(), ["conv2d"] if sym else ["pad", "conv2d"])
        # no bias: a zero bias parameter; SAME_UPPER padding
        m = model([node("Conv", ["x", "w"], ["y"], auto_pad="SAME_UPPER", strides=[2, 2])],
                  [("x", x.shape)], [("y", None)], {"w": rand(3, 4, 2, 2)})
        g, params = import_onnx(m)
        self.assertEqual([a.name for a in g.params], ["w", "w.zero_bias"])
        self.assertFalse(params["w.zero_bias"].any())
        wt = torch.tensor(numpy_helper.to_array(m.graph.initializer[0]))
        e = F.conv2d(F.pad(torch.tensor(x), (0, 0, 0, 1)), wt, stride=2)
        self.check(m, x, e.numpy(), ["pad", "conv2d"])

    def bn_inits(self, c, prefix="bn"):
        return {f"{prefix}.scale": rand(c, scale=0.2, offset=1.0),
                f"{prefix}.bias": rand(c, scale=0.1),
                f"{prefix}.mean": rand(c, scale=0.1),
                f"{prefix}.var": np.abs(rand(c, scale=0.3, offset=1.0))}

    def torch_bn(self, x, inits, prefix="bn", eps=1e-5):
        t = {k: torch.tensor(v) for k, v in inits.items()}
        return F.batch_norm(x, t[f"{prefix}.mean"], t[f"{prefix}.var"], t[f"{prefix}.scale"],
                            t[f"{prefix}.bias"], False, 0.0, eps)

    def test_batch_norm_folding(self):
        x = rand(1, 3, 8, 8)
        w, b = rand(5, 3, 3, 3), rand(5)
        bn = self.bn_inits(5)
        names = ["bn.scale", "bn.bias", "bn.mean", "bn.var"]
        xt = torch.tensor(x)
        conv = F.conv2d(xt, torch.tensor(w), torch.tensor(b), padding=1)
        # conv -> BN -> Relu: one conv with the BN folded and relu fused
        m = model([node("Conv", ["x", "w", "b"], ["c"], pads=[1, 1, 1, 1]),
                   node("BatchNormalization", ["c"] + names, ["n"], epsilon=1e-3),
                   node("Relu", ["n"], ["y"])],
                  [("x", x.shape)], [("y", None)], dict(bn, w=w, b=b))
        g = self.check(m, x, torch.relu(self.torch_bn(conv, bn, eps=1e-3)).numpy(), ["conv2d"])
        self.assertEqual(g.ops[0].attrs["act"], "relu")
        self.assertEqual([a.name for a in g.params], ["w.folded", "w.folded_bias"])
        # the conv's output is also used elsewhere: BN stays an ios.affine
        m = model([node("Conv", ["x", "w", "b"], ["c"], pads=[1, 1, 1, 1]),
                   node("BatchNormalization", ["c"] + names, ["n"]),
                   node("Add", ["n", "c"], ["y"])],
                  [("x", x.shape)], [("y", None)], dict(bn, w=w, b=b))
        g = self.check(m, x, (self.torch_bn(conv, bn) + conv).numpy(),
                       ["conv2d", "affine", "add"])
        self.assertEqual([a.name for a in g.ops[1].params], ["bn.scale.bn_scale",
                                                             "bn.bias.bn_shift"])
        # BN of the input (nothing to fold into) and after a concat
        m = model([node("BatchNormalization", ["x"] + names[:0] + [
                       "bn.scale", "bn.bias", "bn.mean", "bn.var"], ["y"])],
                  [("x", (1, 5, 4, 4))], [("y", None)], bn)
        x5 = rand(1, 5, 4, 4)
        self.check(m, x5, self.torch_bn(torch.tensor(x5), bn).numpy(), ["affine"])

    def test_activations(self):
        x = rand(2, 3, 5, 5, scale=4.0)
        xt = torch.tensor(x)
        cases = [
            ([node("Relu", ["x"], ["y"])], {}, torch.relu(xt), "relu", 13),
            ([node("Sigmoid", ["x"], ["y"])], {}, torch.sigmoid(xt), "sigmoid", 13),
            ([node("Tanh", ["x"], ["y"])], {}, torch.tanh(xt), "tanh", 13),
            ([node("Clip", ["x", "lo", "hi"], ["y"])],
             {"lo": np.float32(0), "hi": np.float32(6)}, F.relu6(xt), "relu6", 13),
            ([node("Clip", ["x", "lo"], ["y"])], {"lo": np.float32(0)}, torch.relu(xt),
             "relu", 13),
            ([node("Clip", ["x"], ["y"], min=0.0, max=6.0)], {}, F.relu6(xt), "relu6", 6),
            ([node("HardSigmoid", ["x"], ["y"], alpha=1.0 / 6)], {}, F.hardsigmoid(xt),
             "hardsigmoid", 13),
            ([node("HardSwish", ["x"], ["y"])], {}, F.hardswish(xt), "hardswish", 14),
            ([node("Sigmoid", ["x"], ["s"]), node("Mul", ["x", "s"], ["y"])], {}, F.silu(xt),
             "silu", 13),
            ([node("HardSigmoid", ["x"], ["s"], alpha=1.0 / 6), node("Mul", ["s", "x"], ["y"])],
             {}, F.hardswish(xt), "hardswish", 13),
        ]
        for nodes, inits, e, kind, opset in cases:
            with self.subTest(kind=kind, nodes=[n.op_type for n in nodes]):
                m = model(nodes, [("x", x.shape)], [("y", None)], inits, opset=opset)
                self.check(m, x, e.numpy(), [f"activation:{kind}"])

    def test_activation_fusion(self):
        x = rand(1, 3, 6, 6)
        w, b = rand(4, 3, 1, 1), rand(4)
        conv = F.conv2d(torch.tensor(x), torch.tensor(w), torch.tensor(b))
        for nodes, e, act in [
                ([node("Sigmoid", ["c"], ["s"]), node("Mul", ["c", "s"], ["y"])], F.silu(conv),
                 "silu"),
                ([node("HardSwish", ["c"], ["y"])], F.hardswish(conv), "hardswish"),
                ([node("Clip", ["c", "lo", "hi"], ["y"])], F.relu6(conv), "relu6")]:
            with self.subTest(act=act):
                m = model([node("Conv", ["x", "w", "b"], ["c"])] + nodes, [("x", x.shape)],
                          [("y", None)], {"w": w, "b": b, "lo": np.float32(0),
                                          "hi": np.float32(6)}, opset=14)
                g = self.check(m, x, e.numpy(), ["conv2d"])
                self.assertEqual(g.ops[0].attrs["act"], act)
        # the conv result is also an output: no fusion
        m = model([node("Conv", ["x", "w", "b"], ["c"]), node("Relu", ["c"], ["y"])],
                  [("x", x.shape)], [("y", None), ("c", None)], {"w": w, "b": b})
        self.check(m, x, [torch.relu(conv).numpy(), conv.numpy()],
                   ["conv2d", "activation:relu"])

    def test_pools(self):
        x = rand(2, 3, 11, 10)
        xt = torch.tensor(x)
        cases = [
            (dict(kernel_shape=[3, 3], strides=[2, 2], ceil_mode=1),
             F.max_pool2d(xt, 3, 2, ceil_mode=True), "max", ["pool2d:max"]),
            (dict(kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1], ceil_mode=1),
             F.max_pool2d(xt, 3, 2, 1, ceil_mode=True), "max", ["pool2d:max"]),
            (dict(kernel_shape=[2, 3], strides=[2, 1], pads=[0, 0, 1, 2]),
             F.max_pool2d(F.pad(xt, (0, 2, 0, 1), value=-np.inf), (2, 3), (2, 1)), "max",
             ["pad", "pool2d:max"]),
            (dict(kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1], count_include_pad=1),
             F.avg_pool2d(xt, 3, 2, 1, count_include_pad=True), "avg", ["pool2d:avg"]),
            (dict(kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1], count_include_pad=0),
             F.avg_pool2d(xt, 3, 2, 1, count_include_pad=False), "avg", ["pool2d:avg"]),
            (dict(kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1], ceil_mode=1,
                  count_include_pad=0),
             F.avg_pool2d(xt, 3, 2, 1, ceil_mode=True, count_include_pad=False), "avg",
             ["pool2d:avg"]),
            (dict(kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1], ceil_mode=1,
                  count_include_pad=1),
             F.avg_pool2d(xt, 3, 2, 1, ceil_mode=True, count_include_pad=True), "avg",
             ["pool2d:avg"]),
            (dict(kernel_shape=[3, 3], strides=[1, 1], pads=[0, 0, 2, 2], count_include_pad=1),
             F.avg_pool2d(F.pad(xt, (0, 2, 0, 2)), 3, 1), "avg", ["pad", "pool2d:avg"]),
        ]
        for attrs, e, kind, kinds in cases:
            with self.subTest(attrs=attrs):
                op = "MaxPool" if kind == "max" else "AveragePool"
                m = model([node(op, ["x"], ["y"], **attrs)], [("x", x.shape)], [("y", None)])
                g = self.check(m, x, e.numpy(), kinds)
                pool = g.ops[-1]
                self.assertEqual(pool.attrs.get("ceil_mode", False), bool(attrs.get("ceil_mode")))
        # PyTorch's padded average pool exported as Pad + AveragePool: one pool
        m = model([node("Pad", ["x", "p"], ["q"]), node("AveragePool", ["q"], ["y"],
                                                         kernel_shape=[3, 3])],
                  [("x", x.shape)], [("y", None)],
                  {"p": np.array([0, 0, 1, 1, 0, 0, 1, 1], np.int64)})
        g = self.check(m, x, F.avg_pool2d(xt, 3, 1, 1).numpy(), ["pool2d:avg"])
        self.assertEqual(g.ops[0].attrs["padding"], (1, 1))

    def test_global_pools_and_reductions(self):
        x = rand(2, 5, 4, 3)
        xt = torch.tensor(x)
        for nodes, e, kinds, opset in [
                ([node("GlobalAveragePool", ["x"], ["y"])], xt.mean((2, 3), keepdim=True),
                 ["pool2d:global_avg"], 13),
                ([node("GlobalMaxPool", ["x"], ["y"])], xt.amax((2, 3), keepdim=True),
                 ["pool2d:global_max"], 13),
                ([node("ReduceMean", ["x"], ["y"], axes=[2, 3])], xt.mean((2, 3), keepdim=True),
                 ["pool2d:global_avg"], 13),
                ([node("ReduceMean", ["x"], ["y"], axes=[-1, -2], keepdims=0)], xt.mean((2, 3)),
                 ["pool2d:global_avg", "flatten"], 13)]:
            with self.subTest(op=nodes[0].op_type):
                m = model(nodes, [("x", x.shape)], [("y", None)], opset=opset)
                self.check(m, x, e.numpy(), kinds)

    def test_pad_concat_split_slice(self):
        x = rand(1, 6, 4, 5)
        xt = torch.tensor(x)
        m = model([node("Pad", ["x", "p", "v"], ["y"])], [("x", x.shape)], [("y", None)],
                  {"p": np.array([0, 0, 1, 2, 0, 0, 3, 0], np.int64), "v": np.float32(0.5)})
        self.check(m, x, F.pad(xt, (2, 0, 1, 3), value=0.5).numpy(), ["pad"])
        m = model([node("Split", ["x", "s"], ["a", "b", "c"], axis=1),
                   node("Concat", ["c", "a"], ["y"], axis=1)],
                  [("x", x.shape)], [("y", None)], {"s": np.array([1, 2, 3], np.int64)})
        self.check(m, x, torch.cat([xt[:, 3:], xt[:, :1]], 1).numpy(),
                   ["slice", "slice", "concat"])  # the unused part is dropped
        m = model([node("Slice", ["x", "st", "en", "ax"], ["y"])], [("x", x.shape)],
                  [("y", None)], {"st": np.array([2], np.int64), "en": np.array([-1], np.int64),
                                  "ax": np.array([1], np.int64)})
        self.check(m, x, xt[:, 2:5].numpy(), ["slice"])

    def test_broadcast_and_constants(self):
        x = rand(2, 4, 3, 3)
        s = rand(2, 4, 1, 1)
        xt, st = torch.tensor(x), torch.tensor(s)
        m = model([node("GlobalAveragePool", ["x"], ["g"]), node("Sigmoid", ["g"], ["s"]),
                   node("Mul", ["s", "x"], ["m"]), node("Add", ["m", "g"], ["y"])],
                  [("x", x.shape)], [("y", None)])
        gp = xt.mean((2, 3), keepdim=True)
        self.check(m, x, (torch.sigmoid(gp) * xt + gp).numpy(),
                   ["pool2d:global_avg", "activation:sigmoid", "mul", "add"])
        m = model([node("Mul", ["x", "s"], ["y"])], [("x", x.shape), ("s", s.shape)],
                  [("y", None)])
        self.check(m, [x, s], (xt * st).numpy(), ["mul"])
        c = rand(1, 4, 1, 1)
        m = model([node("Mul", ["x", "c"], ["a"]), node("Sub", ["a", "d"], ["y"])],
                  [("x", x.shape)], [("y", None)], {"c": c, "d": np.float32(0.25)})
        self.check(m, x, (xt * torch.tensor(c) - 0.25).numpy(), ["affine", "affine"])

    def test_heads(self):
        x = rand(3, 4, 2, 2)
        xt = torch.tensor(x)
        w, b = rand(5, 16), rand(5)
        # the shape subgraph exporters emit for x.view(x.size(0), -1)
        nodes = [node("Shape", ["x"], ["sh"]), node("Gather", ["sh", "zero"], ["n"], axis=0),
                 node("Unsqueeze", ["n", "axes"], ["n1"]),
                 node("Concat", ["n1", "minus1"], ["target"], axis=0),
                 node("Reshape", ["x", "target"], ["f"]),
                 node("Gemm", ["f", "w", "b"], ["l"], transB=1),
                 node("Dropout", ["l"], ["d"]), node("Identity", ["d"], ["i"]),
                 node("Softmax", ["i"], ["y"])]
        inits = {"zero": np.array(0, np.int64), "axes": np.array([0], np.int64),
                 "minus1": np.array([-1], np.int64), "w": w, "b": b}
        m = model(nodes, [("x", x.shape)], [("y", None)], inits)
        e = torch.softmax(F.linear(xt.reshape(3, -1), torch.tensor(w), torch.tensor(b)), -1)
        self.check(m, x, e.numpy(), ["flatten", "linear", "softmax"])
        # Flatten + MatMul (no bias) + Add of a bias constant: folded into the linear
        m = model([node("Flatten", ["x"], ["f"]), node("MatMul", ["f", "wt"], ["mm"]),
                   node("Add", ["mm", "b"], ["y"])],
                  [("x", x.shape)], [("y", None)], {"wt": w.T.copy(), "b": b})
        g = self.check(m, x, F.linear(xt.reshape(3, -1), torch.tensor(w),
                                      torch.tensor(b)).numpy(), ["flatten", "linear"])
        self.assertEqual([a.name for a in g.params], ["wt.T.folded", "wt.T.folded_bias"])
        # Gemm with transB=0
        m = model([node("Flatten", ["x"], ["f"]), node("Gemm", ["f", "wt"], ["y"])],
                  [("x", x.shape)], [("y", None)], {"wt": w.T.copy()})
        self.check(m, x, (xt.reshape(3, -1) @ torch.tensor(w).T).numpy(), ["flatten", "linear"])

    def test_resize_and_channel_shuffle(self):
        x = rand(2, 6, 3, 4)
        xt = torch.tensor(x)
        m = model([node("Resize", ["x", "", "sc"], ["y"], mode="nearest",
                        coordinate_transformation_mode="asymmetric", nearest_mode="floor")],
                  [("x", x.shape)], [("y", None)], {"sc": np.array([1, 1, 2, 3], np.float32)})
        self.check(m, x, F.interpolate(xt, scale_factor=(2, 3), mode="nearest").numpy(),
                   ["upsample"])
        m = model([node("Resize", ["x", "", "", "sz"], ["y"], mode="nearest")],
                  [("x", x.shape)], [("y", None)], {"sz": np.array([2, 6, 6, 8], np.int64)})
        self.check(m, x, F.interpolate(xt, scale_factor=2, mode="nearest").numpy(),
                   ["upsample"])
        m = model([node("Reshape", ["x", "s5"], ["a"]),
                   node("Transpose", ["a"], ["b"], perm=[0, 2, 1, 3, 4]),
                   node("Reshape", ["b", "s4"], ["y"])],
                  [("x", x.shape)], [("y", None)],
                  {"s5": np.array([2, 3, 2, 3, 4], np.int64),
                   "s4": np.array([2, -1, 3, 4], np.int64)})
        e = xt.reshape(2, 3, 2, 3, 4).transpose(1, 2).reshape(2, 6, 3, 4)
        g = self.check(m, x, e.numpy(), ["channel_shuffle"])
        self.assertEqual(g.ops[0].attrs["groups"], 3)

    def test_names_and_text(self):
        x = rand(1, 3, 4, 4)
        m = model([node("Conv", ["x", "w"], ["c"], name='stem/conv "1"'),
                   node("Relu", ["c"], ["y"], name="stem/relu")],
                  [("x", x.shape)], [("y", None)], {"w": rand(2, 3, 1, 1)})
        g, _ = import_onnx(m)
        text = g.to_mlir()
        self.assertIn('loc("stem/conv \\"1\\"")', text)
        self.assertIn('{ios.param = "w.zero_bias"}', text)
        self.assertIn("act = #ios.act<relu>", text)
        g4, _ = import_onnx(m, batch=4)
        self.assertEqual(g4.inputs[0].shape, (4, 3, 4, 4))


@unittest.skipIf(onnx is None, "needs python3-onnx and python3-torch")
class RejectTest(unittest.TestCase):
    """Each rejected op / attribute: the exact message, exit 1, no file."""

    X = ("x", (1, 4, 6, 6))
    CASES = [
        ([node("Relu", ["x"], ["r"], name="r"), node("LeakyRelu", ["r"], ["y"], name="leaky")],
         {}, 13, 'node 1 "leaky" (LeakyRelu): unsupported op LeakyRelu'),
        ([helper.make_node("FusedConv", ["x"], ["y"], name="fc", domain="com.microsoft")]
         if onnx else [], {}, 13,
         'node 0 "fc" (FusedConv): unsupported op com.microsoft.FusedConv'),
        ([node("Clip", ["x", "lo", "hi"], ["y"], name="clip")],
         {"lo": np.float32(0), "hi": np.float32(1)}, 13,
         'node 0 "clip" (Clip): clip bounds [0, 1] are not supported: only [0, 6] (relu6) '
         'and [0, inf] (relu)'),
        ([node("HardSigmoid", ["x"], ["y"], name="hs")], {}, 13,
         'node 0 "hs" (HardSigmoid): HardSigmoid alpha=0.2, beta=0.5 is not supported: only '
         'alpha=1/6, beta=0.5 (PyTorch\'s hardsigmoid)'),
        ([node("MaxPool", ["x"], ["y"], name="mp", kernel_shape=[2, 2], dilations=[2, 2])], {},
         13, 'node 0 "mp" (MaxPool): dilations [2, 2] are not supported for pooling'),
        ([node("AveragePool", ["x"], ["y"], name="ap", kernel_shape=[3, 3],
               pads=[0, 0, 1, 1])], {}, 13,
         'node 0 "ap" (AveragePool): average pooling with asymmetric pads is only supported '
         'with count_include_pad=1 and ceil_mode=0'),
        ([node("Pad", ["x", "p"], ["y"], name="pad", mode="reflect")],
         {"p": np.zeros(8, np.int64)}, 13,
         'node 0 "pad" (Pad): mode \'reflect\' is not supported: only constant padding'),
        ([node("Pad", ["x", "p", "v"], ["y"], name="pad")],
         {"p": np.ones(8, np.int64) * np.array([0, 0, 1, 1, 0, 0, 1, 1]),
          "v": np.float32(-np.inf)}, 13,
         'node 0 "pad" (Pad): padding value -inf is not supported: it must be finite'),
        ([node("Resize", ["x", "", "sc"], ["y"], name="rs", mode="linear")],
         {"sc": np.array([1, 1, 2, 2], np.float32)}, 13,
         'node 0 "rs" (Resize): mode \'linear\' is not supported: only nearest'),
        ([node("Transpose", ["x"], ["y"], name="tr", perm=[0, 2, 3, 1])], {}, 13,
         'node 0 "tr" (Transpose): transpose [0, 2, 3, 1] of [1, 4, 6, 6] is not supported: '
         'only the channel shuffle\'s transpose of axes 1 and 2 of (N, G, C/G, H, W)'),
        ([node("Reshape", ["x", "s"], ["y"], name="rh")], {"s": np.array([1, 4, 36], np.int64)},
         13, 'node 0 "rh" (Reshape): reshape of [1, 4, 6, 6] to [1, 4, 36] is not supported: '
         'only identity, flatten to (N, C*H*W) and the channel shuffle reshape(N, G, C/G, H, W)'
         ' - transpose(1, 2) - reshape(N, C, H, W)'),
        ([node("Softmax", ["x"], ["y"], name="sm", axis=1)], {}, 13,
         'node 0 "sm" (Softmax): softmax along axis 1 of tensor<1x4x6x6xf32> is not supported: '
         'only the last axis of a 2-D tensor'),
        ([node("Concat", ["x", "x"], ["y"], name="cat", axis=2)], {}, 13,
         'node 0 "cat" (Concat): concatenation along axis 2 of tensor<1x4x6x6xf32> is not '
         'supported: only channels (axis 1) of 4-D tensors'),
        ([node("Flatten", ["x"], ["f"], name="fl"),
          node("Gemm", ["f", "w"], ["y"], name="gemm", alpha=2.0, transB=1)],
         {"w": np.ones((2, 144), np.float32)}, 13,
         'node 1 "gemm" (Gemm): alpha=2, beta=1 are not supported: only 1'),
        ([node("ReduceMean", ["x"], ["y"], name="rm", axes=[1])], {}, 13,
         'node 0 "rm" (ReduceMean): ReduceMean over axes [1] of tensor<1x4x6x6xf32> is not '
         'supported: only over H and W (axes 2, 3) of a 4-D tensor'),
        ([node("Conv", ["x", "w"], ["y"], name="cv")], {"w": np.ones((2, 4, 3), np.float32)},
         13, 'node 0 "cv" (Conv): kernel_shape [3]: only 2-D windows are supported'),
        ([node("MaxPool", ["x"], ["y", "idx"], name="mp", kernel_shape=[2, 2]),
          node("Cast", ["idx"], ["y2"], name="cast", to=TensorProto.FLOAT),
          node("Add", ["y", "y2"], ["z"], name="add")]
         if onnx else [], {}, 13,
         'node 1 "cast" (Cast): MaxPool indices are not supported'),
        ([node("BatchNormalization", ["x", "s", "b", "m", "v"], ["y"], name="bn",
               training_mode=1)],
         {k: np.ones(4, np.float32) for k in "sbmv"}, 14,
         'node 0 "bn" (BatchNormalization): training_mode=1 is not supported (inference only)'),
    ]

    def test_messages(self):
        for nodes, inits, opset, message in self.CASES:
            with self.subTest(message=message):
                m = model(nodes, [self.X], [(nodes[-1].output[0], None)], inits, opset=opset)
                with self.assertRaises(ImporterError) as cm:
                    import_onnx(m)
                self.assertEqual(str(cm.exception), message)

    def test_command_line_writes_nothing(self):
        nodes, inits, opset, message = self.CASES[0]
        m = model(nodes, [self.X], [("y", None)], inits, opset=opset)
        env = dict(os.environ, PYTHONPATH=PYTHON_DIR)
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "bad.onnx")
            onnx.save(m, path)
            out, weights = os.path.join(d, "g.mlir"), os.path.join(d, "w.safetensors")
            proc = subprocess.run([sys.executable, "-m", "ios.importer", path, "-o", out,
                                   "--weights", weights], capture_output=True, text=True,
                                  env=env)
            self.assertEqual(proc.returncode, 1)
            self.assertEqual(proc.stderr, f"error: {path}: {message}\n")
            self.assertEqual(sorted(os.listdir(d)), ["bad.onnx"])
            # a good model: both files written, the MLIR names the node
            good = model([nodes[0]], [self.X], [("r", None)])
            onnx.save(good, path)
            proc = subprocess.run([sys.executable, "-m", "ios.importer", path, "-o", out,
                                   "--weights", weights, "--batch", "3"],
                                  capture_output=True, text=True, env=env)
            self.assertEqual(proc.returncode, 0, proc.stderr)
            with open(out) as f:
                text = f.read()
            self.assertIn('ios.activation relu %x : tensor<3x4x6x6xf32> loc("r")', text)
            self.assertTrue(os.path.exists(weights))
            proc = subprocess.run([sys.executable, "-m", "ios.importer",
                                   os.path.join(d, "missing.onnx")], capture_output=True,
                                  text=True, env=env)
            self.assertEqual(proc.returncode, 1)
            self.assertTrue(proc.stderr.startswith("error: "), proc.stderr)


if __name__ == "__main__":
    unittest.main()
