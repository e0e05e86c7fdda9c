"""ios.reference against independent implementations.

* a float64 numpy interpreter with naive convolution and pooling loops, on small
  graphs that use every op and attribute;
* torch.nn modules written like torchvision's (SqueezeNet's Fire module with
  IOS's bypass, the Inception V3 blocks), loaded with the same parameters by
  name (``load_state_dict(strict=True)`` also checks the parameter names).
"""

import os
import subprocess
import sys
import tempfile
import unittest

import numpy as np

from ios import reference, safetensors
from ios.builder import Graph
from ios.zoo import inception_v3 as iv3
from ios.zoo import squeezenet as sq
from ios.zoo.common import Net

try:
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
    torch.set_num_threads(2)
except ImportError:  # pragma: no cover
    torch = None

PYTHON_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


# -- numpy float64 interpreter ---------------------------------------------------

def np_conv(x, w, b, stride, pad, dil, groups):
    n, c, h, wd = x.shape
    o, cg, kh, kw = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pad[0], pad[0]), (pad[1], pad[1])))
    ho = (h + 2 * pad[0] - dil[0] * (kh - 1) - 1) // stride[0] + 1
    wo = (wd + 2 * pad[1] - dil[1] * (kw - 1) - 1) // stride[1] + 1
    out = np.zeros((n, o, ho, wo))
    og = o // groups
    for g in range(groups):
        xs = xp[:, g * cg:(g + 1) * cg]
        for oc in range(g * og, (g + 1) * og):
            for oh in range(ho):
                for ow in range(wo):
                    acc = np.zeros(n)
                    for i in range(kh):
                        for j in range(kw):
                            acc += xs[:, :, oh * stride[0] + i * dil[0],
                                      ow * stride[1] + j * dil[1]] @ w[oc, :, i, j]
                    out[:, oc, oh, ow] = acc + b[oc]
    return out


def np_out_size(n, k, s, p, ceil):
    """PyTorch's pooling output size: with ceil_mode the last window must start
    inside the input or the left padding."""
    if not ceil:
        return (n + 2 * p - k) // s + 1
    o = -(-(n + 2 * p - k) // s) + 1
    return o - 1 if (o - 1) * s >= n + p else o


def np_pool(x, kind, kernel, stride, pad, ceil=False, count_include_pad=True):
    """Windows start at o * stride - pad; a window is clipped to the padded
    input [-pad, n + pad) for the avg divisor counting padding, and to the
    input for max and for the divisor without padding."""
    n, c, h, w = x.shape
    if kind.startswith("global"):
        f = np.max if kind == "global_max" else np.mean
        return f(x, axis=(2, 3), keepdims=True)
    ho = np_out_size(h, kernel[0], stride[0], pad[0], ceil)
    wo = np_out_size(w, kernel[1], stride[1], pad[1], ceil)
    out = np.zeros((n, c, ho, wo))
    for oh in range(ho):
        h0 = oh * stride[0] - pad[0]
        h1 = min(h0 + kernel[0], h + pad[0])
        for ow in range(wo):
            w0 = ow * stride[1] - pad[1]
            w1 = min(w0 + kernel[1], w + pad[1])
            win = x[:, :, max(h0, 0):min(h1, h), max(w0, 0):min(w1, w)]
            if kind == "max":
                out[:, :, oh, ow] = win.max(axis=(2, 3))
            elif count_include_pad:
                out[:, :, oh, ow] = win.sum(axis=(2, 3)) / ((h1 - h0) * (w1 - w0))
            else:
                out[:, :, oh, ow] = win.mean(axis=(2, 3))
    return out


def np_act(x, act):
    hardsigmoid = lambda v: np.clip(v + 3, 0, 6) / 6  # noqa: E731
    return {"none": lambda v: v, "relu": lambda v: np.maximum(v, 0),
            "sigmoid": lambda v: 1 / (1 + np.exp(-v)), "tanh": np.tanh,
            "relu6": lambda v: np.clip(v, 0, 6), "hardsigmoid": hardsigmoid,
            "hardswish": lambda v: v * hardsigmoid(v),
            "silu": lambda v: v / (1 + np.exp(-v))}[act](x)


def np_run(graph, params, x):
    env = {id(graph.input_arg.value): x.astype(np.float64)}
    for op in graph.ops:
        a = op.attrs
        ins = [env[id(v)] for v in op.inputs]
        ps = [params[p.name].astype(np.float64) for p in op.params]
        k = op.kind
        if k == "conv2d":
            y = np_act(np_conv(ins[0], ps[0], ps[1], a["strides"], a["padding"],
                               a["dilations"], a["groups"]), a["act"])
        elif k == "pool2d":
            y = np_pool(ins[0], a["kind"], a.get("kernel"), a.get("strides"), a.get("padding"),
                        a.get("ceil_mode", False), a.get("count_include_pad", True))
        elif k == "activation":
            y = np_act(ins[0], a["kind"])
        elif k == "add":  # numpy broadcasts (N, C, 1, 1) operands
            y = ins[0] + ins[1]
            for t in ins[2:]:
                y = y + t
        elif k == "mul":
            y = ins[0] * ins[1]
        elif k == "concat":
            y = np.concatenate(ins, axis=1)
        elif k == "slice":
            y = ins[0][:, a["begin"]:a["end"]]
        elif k == "flatten":
            y = ins[0].reshape(ins[0].shape[0], -1)
        elif k == "linear":
            y = ins[0] @ ps[0].T + ps[1]
        elif k == "softmax":
            e = np.exp(ins[0] - ins[0].max(axis=-1, keepdims=True))
            y = e / e.sum(axis=-1, keepdims=True)
        elif k == "pad":
            t, l, b, r = a["pads"]
            y = np.pad(ins[0], ((0, 0), (0, 0), (t, b), (l, r)), constant_values=a["value"])
        elif k == "affine":
            shape = (1, -1) + (1,) * (ins[0].ndim - 2)
            y = ins[0] * ps[0].reshape(shape) + ps[1].reshape(shape)
        elif k == "upsample":
            y = np.repeat(np.repeat(ins[0], a["scale"][0], axis=2), a["scale"][1], axis=3)
        elif k == "channel_shuffle":
            n, c, h, w = ins[0].shape
            y = np.empty_like(ins[0])
            groups = a["groups"]
            for i in range(c):  # output channel j * G + g is input channel g * C/G + j
                g, j = i % groups, i // groups
                y[:, i] = ins[0][:, g * (c // groups) + j]
        else:
            raise AssertionError(k)
        env[id(op.result)] = y
    return [env[id(v)] for v in graph.outputs]


@unittest.skipIf(torch is None, "PyTorch is not installed")
class NumpyTest(unittest.TestCase):
    def check(self, g, seed=0, rtol=1e-4):
        params = g.random_params(seed)
        x = np.random.default_rng(seed).standard_normal(g.input_arg.shape).astype(np.float32)
        got = reference.run(g, params, x)
        want = np_run(g, params, x)
        self.assertEqual(len(got), len(want))
        for a, b in zip(got, want):
            self.assertEqual(tuple(a.shape), b.shape)
            scale = max(1e-3, float(np.abs(b).max()))
            np.testing.assert_allclose(a.numpy(), b, rtol=rtol, atol=rtol * scale)

    def test_new_ops(self):
        g = Graph("new", batch=2)
        x = g.input((4, 7, 6))
        y = g.conv2d(x, 6, 3, padding=1, act="hardswish")
        outs = [g.activation(y, k) for k in ("relu6", "hardsigmoid", "silu")]
        outs.append(g.conv2d(y, 6, 1, act="silu"))
        p = g.pad(y, (1, 0, 2, 3), value=-0.5)
        outs.append(p)
        for kind, k, s_, pad, ceil, cip in [("max", 2, 2, 1, True, True),
                                            ("avg", 2, 2, 1, True, True),
                                            ("avg", 2, 2, 1, True, False),
                                            ("avg", 3, 2, 1, True, True),
                                            ("avg", 3, 2, 1, False, False),
                                            ("max", 3, 3, 1, True, True),
                                            ("avg", (3, 2), (2, 3), (1, 1), True, False)]:
            outs.append(g.pool2d(y, kind, k, s_, pad, ceil_mode=ceil, count_include_pad=cip))
        gp = g.pool2d(y, "global_avg")
        outs.append(g.mul(gp, y))
        outs.append(g.add(y, gp, y))
        outs.append(g.affine(y))
        outs.append(g.affine(g.flatten(gp)))
        outs.append(g.upsample(y, (2, 3)))
        outs.append(g.channel_shuffle(y, 3))
        g.output(*outs)
        # ceil_mode where the last window would start in the right padding
        self.assertEqual(outs[6].shape[2:], (4, 4))
        self.assertEqual(outs[5].shape[2:], (4, 4))
        self.check(g)

    def test_convolutions(self):
        g = Graph("convs", batch=2)
        x = g.input((4, 9, 7))
        a = g.conv2d(x, 6, kernel=3, stride=2, padding=1, act="relu")
        b = g.conv2d(x, 4, kernel=(1, 3), padding=(0, 2), dilation=(1, 2), act="tanh")
        c = g.conv2d(x, 4, kernel=3, padding=1, groups=4, act="sigmoid")  # depthwise
        d = g.conv2d(x, 6, kernel=(3, 2), stride=(1, 2), groups=2)
        g.output(a, b, c, d)
        self.check(g)

    def test_pools(self):
        g = Graph("pools", batch=2)
        x = g.input((3, 9, 8))
        outs = [g.pool2d(x, "max", 3, 2, 1), g.pool2d(x, "avg", 3, 2, 1),
                g.pool2d(x, "avg", 3, 1, 1), g.pool2d(x, "max", (2, 3), (1, 2)),
                g.pool2d(x, "avg", 2), g.pool2d(x, "global_avg"), g.pool2d(x, "global_max")]
        g.output(*outs)
        self.check(g)

    def test_other_ops(self):
        g = Graph("misc", batch=3)
        x = g.input((6, 5, 5))
        a = g.conv2d(x, 6, kernel=3, padding=1)
        s = g.add(x, a, g.relu(a))
        m = g.mul(g.sigmoid(s), g.tanh(a))
        c = g.concat([m, g.slice(s, 1, 4), x])
        t = g.terms([[c, c], [a], [x, a, m]])
        f = g.linear(g.flatten(g.pool2d(t, "avg", 2, 2)), 7)
        g.output(g.softmax(f), t)
        self.check(g)

    def test_unknown_params_rejected(self):
        g = Graph("t")
        x = g.input((2, 4, 4))
        g.output(g.conv2d(x, 2))
        params = g.random_params(0)
        xin = np.zeros(g.input_arg.shape, np.float32)
        bad = dict(params, extra=np.zeros(1, np.float32))
        with self.assertRaises(reference.ReferenceError):
            reference.run(g, bad, xin)
        bad = dict(params)
        bad["conv.weight"] = np.zeros((2, 2, 1, 2), np.float32)
        with self.assertRaises(reference.ReferenceError):
            reference.run(g, bad, xin)
        del bad["conv.weight"]
        with self.assertRaises(reference.ReferenceError):
            reference.run(g, bad, xin)
        with self.assertRaises(reference.ReferenceError):
            reference.run(g, params, np.zeros((1, 2, 4, 5), np.float32))


# -- torch.nn modules -------------------------------------------------------------

if torch is not None:
    class BasicConv2d(nn.Conv2d):
        """Conv + bias + relu (batch norm folded), named like torchvision's."""

        def forward(self, x):
            return F.relu(super().forward(x))

    class Fire(nn.Module):
        def __init__(self, cin, squeeze, expand):
            super().__init__()
            self.squeeze = BasicConv2d(cin, squeeze, 1)
            self.expand3x3 = BasicConv2d(squeeze, expand, 3, padding=1)
            self.expand1x1 = BasicConv2d(squeeze, expand, 1)
            self.bypass = None if cin == 2 * expand else BasicConv2d(cin, 2 * expand, 1)

        def forward(self, x):
            s = self.squeeze(x)
            y = torch.cat([self.expand3x3(s), self.expand1x1(s)], 1)
            return y + (x if self.bypass is None else self.bypass(x))

    class SqueezeNetBypass(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = BasicConv2d(3, 96, 7, stride=2, padding=3)
            cfg = [("fire2", 96, 16, 64), ("fire3", 128, 16, 64), ("fire4", 128, 32, 128),
                   ("fire5", 256, 32, 128), ("fire6", 256, 48, 192), ("fire7", 384, 48, 192),
                   ("fire8", 384, 64, 256), ("fire9", 512, 64, 256)]
            for name, cin, s, e in cfg:
                self.add_module(name, Fire(cin, s, e))
            self.conv10 = BasicConv2d(512, 1000, 1)

        def forward(self, x):
            pool = lambda v: F.max_pool2d(v, 3, 2)
            x = pool(self.conv1(x))
            x = self.fire4(self.fire3(self.fire2(x)))
            x = pool(x)
            x = self.fire8(self.fire7(self.fire6(self.fire5(x))))
            x = self.fire9(pool(x))
            return F.adaptive_avg_pool2d(self.conv10(x), 1)

    class InceptionA(nn.Module):
        def __init__(self, cin, pool_features):
            super().__init__()
            self.branch1x1 = BasicConv2d(cin, 64, 1)
            self.branch5x5_1 = BasicConv2d(cin, 48, 1)
            self.branch5x5_2 = BasicConv2d(48, 64, 5, padding=2)
            self.branch3x3dbl_1 = BasicConv2d(cin, 64, 1)
            self.branch3x3dbl_2 = BasicConv2d(64, 96, 3, padding=1)
            self.branch3x3dbl_3 = BasicConv2d(96, 96, 3, padding=1)
            self.branch_pool = BasicConv2d(cin, pool_features, 1)

        def forward(self, x):
            b1 = self.branch1x1(x)
            b5 = self.branch5x5_2(self.branch5x5_1(x))
            b3 = self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x)))
            bp = self.branch_pool(F.avg_pool2d(x, 3, 1, 1))
            return torch.cat([b1, b5, b3, bp], 1)

    class InceptionB(nn.Module):
        def __init__(self, cin):
            super().__init__()
            self.branch3x3 = BasicConv2d(cin, 384, 3, stride=2)
            self.branch3x3dbl_1 = BasicConv2d(cin, 64, 1)
            self.branch3x3dbl_2 = BasicConv2d(64, 96, 3, padding=1)
            self.branch3x3dbl_3 = BasicConv2d(96, 96, 3, stride=2)

        def forward(self, x):
            b3 = self.branch3x3(x)
            bd = self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x)))
            return torch.cat([b3, bd, F.max_pool2d(x, 3, 2)], 1)

    class InceptionC(nn.Module):
        def __init__(self, cin, c7):
            super().__init__()
            self.branch1x1 = BasicConv2d(cin, 192, 1)
            self.branch7x7_1 = BasicConv2d(cin, c7, 1)
            self.branch7x7_2 = BasicConv2d(c7, c7, (1, 7), padding=(0, 3))
            self.branch7x7_3 = BasicConv2d(c7, 192, (7, 1), padding=(3, 0))
            self.branch7x7dbl_1 = BasicConv2d(cin, c7, 1)
            self.branch7x7dbl_2 = BasicConv2d(c7, c7, (7, 1), padding=(3, 0))
            self.branch7x7dbl_3 = BasicConv2d(c7, c7, (1, 7), padding=(0, 3))
            self.branch7x7dbl_4 = BasicConv2d(c7, c7, (7, 1), padding=(3, 0))
            self.branch7x7dbl_5 = BasicConv2d(c7, 192, (1, 7), padding=(0, 3))
            self.branch_pool = BasicConv2d(cin, 192, 1)

        def forward(self, x):
            b7 = self.branch7x7_3(self.branch7x7_2(self.branch7x7_1(x)))
            bd = x
            for i in range(1, 6):
                bd = getattr(self, f"branch7x7dbl_{i}")(bd)
            bp = self.branch_pool(F.avg_pool2d(x, 3, 1, 1))
            return torch.cat([self.branch1x1(x), b7, bd, bp], 1)

    class InceptionD(nn.Module):
        def __init__(self, cin):
            super().__init__()
            self.branch3x3_1 = BasicConv2d(cin, 192, 1)
            self.branch3x3_2 = BasicConv2d(192, 320, 3, stride=2)
            self.branch7x7x3_1 = BasicConv2d(cin, 192, 1)
            self.branch7x7x3_2 = BasicConv2d(192, 192, (1, 7), padding=(0, 3))
            self.branch7x7x3_3 = BasicConv2d(192, 192, (7, 1), padding=(3, 0))
            self.branch7x7x3_4 = BasicConv2d(192, 192, 3, stride=2)

        def forward(self, x):
            b3 = self.branch3x3_2(self.branch3x3_1(x))
            b7 = x
            for i in range(1, 5):
                b7 = getattr(self, f"branch7x7x3_{i}")(b7)
            return torch.cat([b3, b7, F.max_pool2d(x, 3, 2)], 1)

    class InceptionE(nn.Module):
        def __init__(self, cin):
            super().__init__()
            self.branch1x1 = BasicConv2d(cin, 320, 1)
            self.branch3x3_1 = BasicConv2d(cin, 384, 1)
            self.branch3x3_2a = BasicConv2d(384, 384, (1, 3), padding=(0, 1))
            self.branch3x3_2b = BasicConv2d(384, 384, (3, 1), padding=(1, 0))
            self.branch3x3dbl_1 = BasicConv2d(cin, 448, 1)
            self.branch3x3dbl_2 = BasicConv2d(448, 384, 3, padding=1)
            self.branch3x3dbl_3a = BasicConv2d(384, 384, (1, 3), padding=(0, 1))
            self.branch3x3dbl_3b = BasicConv2d(384, 384, (3, 1), padding=(1, 0))
            self.branch_pool = BasicConv2d(cin, 192, 1)

        def forward(self, x):
            b3 = self.branch3x3_1(x)
            bd = self.branch3x3dbl_2(self.branch3x3dbl_1(x))
            bp = self.branch_pool(F.avg_pool2d(x, 3, 1, 1))
            return torch.cat([self.branch1x1(x), self.branch3x3_2a(b3), self.branch3x3_2b(b3),
                              self.branch3x3dbl_3a(bd), self.branch3x3dbl_3b(bd), bp], 1)

    class InceptionV3Features(nn.Module):
        """torchvision's Inception3 up to the global average pool (no BN, no aux)."""

        def __init__(self):
            super().__init__()
            self.Conv2d_1a_3x3 = BasicConv2d(3, 32, 3, stride=2)
            self.Conv2d_2a_3x3 = BasicConv2d(32, 32, 3)
            self.Conv2d_2b_3x3 = BasicConv2d(32, 64, 3, padding=1)
            self.Conv2d_3b_1x1 = BasicConv2d(64, 80, 1)
            self.Conv2d_4a_3x3 = BasicConv2d(80, 192, 3)
            self.Mixed_5b = InceptionA(192, 32)
            self.Mixed_5c = InceptionA(256, 64)
            self.Mixed_5d = InceptionA(288, 64)
            self.Mixed_6a = InceptionB(288)
            self.Mixed_6b = InceptionC(768, 128)
            self.Mixed_6c = InceptionC(768, 160)
            self.Mixed_6d = InceptionC(768, 160)
            self.Mixed_6e = InceptionC(768, 192)
            self.Mixed_7a = InceptionD(768)
            self.Mixed_7b = InceptionE(1280)
            self.Mixed_7c = InceptionE(2048)

        def forward(self, x):
            x = self.Conv2d_2b_3x3(self.Conv2d_2a_3x3(self.Conv2d_1a_3x3(x)))
            x = F.max_pool2d(x, 3, 2)
            x = F.max_pool2d(self.Conv2d_4a_3x3(self.Conv2d_3b_1x1(x)), 3, 2)
            for name in ["Mixed_5b", "Mixed_5c", "Mixed_5d", "Mixed_6a", "Mixed_6b", "Mixed_6c",
                         "Mixed_6d", "Mixed_6e", "Mixed_7a", "Mixed_7b", "Mixed_7c"]:
                x = getattr(self, name)(x)
            return F.adaptive_avg_pool2d(x, 1)


@unittest.skipIf(torch is None, "PyTorch is not installed")
class TorchModulesTest(unittest.TestCase):
    def compare(self, graph, module, prefix="", seed=0, rtol=1e-4):
        params = graph.random_params(seed)
        state = {k[len(prefix):]: torch.from_numpy(v) for k, v in params.items()}
        module.load_state_dict(state, strict=True)
        module.eval()
        x = np.random.default_rng(seed).standard_normal(graph.input_arg.shape).astype(np.float32)
        (got,) = reference.run(graph, params, x)
        with torch.no_grad():
            want = module(torch.from_numpy(x))
        self.assertEqual(tuple(got.shape), tuple(want.shape))
        scale = float(want.abs().max())
        self.assertGreater(scale, 0)
        np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=rtol, atol=rtol * scale)

    def block(self, fn, shape, *args, batch=2):
        net = Net("blk", batch, shape)
        return net.finish(fn(net, net.input, *args))

    def test_fire_modules(self):
        # bypass = block input (channels match) and bypass = 1x1 conv
        for cin, s, e in [(128, 16, 64), (96, 16, 64), (256, 48, 192)]:
            with self.subTest(cin=cin):
                g = self.block(sq._fire, (cin, 13, 13), s, e, "fire")
                self.compare(g, Fire(cin, s, e), prefix="fire.")

    def test_inception_blocks(self):
        cases = [
            (iv3._inception_a, (192, 11, 11), (32,), InceptionA(192, 32)),
            (iv3._inception_b, (288, 13, 13), (), InceptionB(288)),
            (iv3._inception_c, (768, 9, 9), (160,), InceptionC(768, 160)),
            (iv3._inception_d, (768, 9, 9), (), InceptionD(768)),
            (iv3._inception_e, (1280, 5, 5), (), InceptionE(1280)),
        ]
        for fn, shape, args, module in cases:
            with self.subTest(block=type(module).__name__):
                g = self.block(fn, shape, *args, "blk")
                self.compare(g, module, prefix="blk.")

    def test_squeezenet(self):
        from ios import zoo
        self.compare(zoo.build("squeezenet", batch=2), SqueezeNetBypass())

    def test_inception_v3(self):
        from ios import zoo
        self.compare(zoo.build("inception_v3", batch=1), InceptionV3Features())


@unittest.skipIf(torch is None, "PyTorch is not installed")
class CommandLineTest(unittest.TestCase):
    def run_cli(self, *args):
        env = dict(os.environ, PYTHONPATH=PYTHON_DIR)
        return subprocess.run([sys.executable, "-m", "ios.reference", *args],
                              capture_output=True, text=True, env=env)

    def test_files(self):
        with tempfile.TemporaryDirectory() as d:
            w, i, o = (os.path.join(d, n) for n in ("w.st", "i.st", "o.st"))
            env = dict(os.environ, PYTHONPATH=PYTHON_DIR)
            r = subprocess.run([sys.executable, "-m", "ios.zoo", "squeezenet", "--weights", w,
                                "--seed", "5", "-o", os.devnull], env=env,
                               capture_output=True, text=True)
            self.assertEqual(r.returncode, 0, r.stderr)
            r = self.run_cli("squeezenet", "--batch", "2", "--weights", w, "--save-input", i,
                             "--output", o, "--seed", "3")
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertIn("output0: shape [2, 1000, 1, 1]", r.stdout)
            outs, meta = safetensors.load(o)
            self.assertEqual(meta["model"], "squeezenet")
            inputs, _ = safetensors.load(i)
            # The same computation in-process, from the files.
            from ios import zoo
            g = zoo.build("squeezenet", batch=2)
            params, _ = safetensors.load(w)
            for k, v in g.random_params(5).items():  # --seed 5 wrote these
                np.testing.assert_array_equal(params[k], v)
            (want,) = reference.run(g, params, inputs["input"])
            # (torch's results depend slightly on its thread count)
            np.testing.assert_allclose(outs["output"], want.numpy(), rtol=1e-5, atol=1e-5)
            # --input reads the file back: same output.
            r = self.run_cli("squeezenet", "--batch", "2", "--weights", w, "--input", i,
                             "--output", o)
            self.assertEqual(r.returncode, 0, r.stderr)
            np.testing.assert_allclose(safetensors.load(o)[0]["output"], want.numpy(),
                                       rtol=1e-5, atol=1e-5)
            # Weights of another model: a clear error.
            r = self.run_cli("sample", "--weights", w)
            self.assertEqual(r.returncode, 1)
            self.assertIn("weights do not match graph 'sample'", r.stderr)
            # Input of the wrong batch size.
            r = self.run_cli("squeezenet", "--weights", w, "--input", i)
            self.assertEqual(r.returncode, 1)
            self.assertIn("expects [1, 3, 224, 224]", r.stderr)

    def test_mlir_file(self):
        with tempfile.TemporaryDirectory() as d:
            m, w, o1, o2 = (os.path.join(d, n) for n in ("s.mlir", "w.st", "o1.st", "o2.st"))
            env = dict(os.environ, PYTHONPATH=PYTHON_DIR)
            r = subprocess.run([sys.executable, "-m", "ios.zoo", "sample", "--batch", "2",
                                "--weights", w, "-o", m], env=env, capture_output=True, text=True)
            self.assertEqual(r.returncode, 0, r.stderr)
            r = self.run_cli("sample", "--batch", "2", "--weights", w, "--output", o1)
            self.assertEqual(r.returncode, 0, r.stderr)
            r = self.run_cli(m, "--weights", w, "--output", o2)
            self.assertEqual(r.returncode, 0, r.stderr)
            np.testing.assert_array_equal(safetensors.load(o1)[0]["output"],
                                          safetensors.load(o2)[0]["output"])
            r = self.run_cli(m)
            self.assertEqual(r.returncode, 2)
            self.assertIn("a .mlir model needs --weights", r.stderr)
            with open(m, "a") as f:
                f.write("garbage\n")
            r = self.run_cli(m, "--weights", w)
            self.assertEqual(r.returncode, 1)
            self.assertIn("s.mlir:", r.stderr)
            self.assertIn("expected a func.func, module or alias", r.stderr)

    def test_bad_arguments(self):
        r = self.run_cli("resnet")
        self.assertEqual(r.returncode, 2)
        self.assertIn("unknown model 'resnet'", r.stderr)
        r = self.run_cli("sample", "--batch", "-1")
        self.assertEqual(r.returncode, 2)
        self.assertIn("must be a positive integer", r.stderr)


if __name__ == "__main__":
    unittest.main()
