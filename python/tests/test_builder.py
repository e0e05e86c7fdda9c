"""Tests of ios.builder: shapes, checks, names, units, parts, printing, params."""

import os
import re
import shutil
import subprocess
import unittest

import numpy as np

from ios.builder import BuildError, Graph, float_literal

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
IOS_OPT = os.environ.get("IOS_OPT", os.path.join(ROOT, "build", "bin", "ios-opt"))


def conv_out(size, k, s, p, d=1):
    return (size + 2 * p - d * (k - 1) - 1) // s + 1


class ShapeTest(unittest.TestCase):
    def test_conv_shapes(self):
        for (h, w, k, s, p, d, cin, cout, groups) in [
                (15, 15, 3, 1, 1, 1, 8, 16, 1), (299, 299, 3, 2, 0, 1, 3, 32, 1),
                (17, 17, (1, 7), 1, (0, 3), 1, 4, 4, 1), (9, 11, 3, 2, 1, 2, 6, 6, 6),
                (8, 8, 5, 1, 2, 1, 4, 8, 2), (7, 5, (3, 1), (2, 1), (1, 0), (1, 1), 2, 3, 1)]:
            g = Graph("t", batch=3)
            x = g.input((cin, h, w))
            y = g.conv2d(x, cout, kernel=k, stride=s, padding=p, dilation=d, groups=groups)
            kk = (k, k) if isinstance(k, int) else k
            ss = (s, s) if isinstance(s, int) else s
            pp = (p, p) if isinstance(p, int) else p
            dd = (d, d) if isinstance(d, int) else d
            self.assertEqual(y.shape, (3, cout, conv_out(h, kk[0], ss[0], pp[0], dd[0]),
                                       conv_out(w, kk[1], ss[1], pp[1], dd[1])))
            wgt, bias = y.op.params
            self.assertEqual(wgt.shape, (cout, cin // groups) + kk)
            self.assertEqual(bias.shape, (cout,))

    def test_pool_shapes(self):
        g = Graph("t")
        x = g.input((4, 35, 35))
        self.assertEqual(g.pool2d(x, "max", 3, 2).shape, (1, 4, 17, 17))
        self.assertEqual(g.pool2d(x, "avg", 3, 1, 1).shape, (1, 4, 35, 35))
        self.assertEqual(g.pool2d(x, "max", 3).shape, (1, 4, 11, 11))  # stride = kernel
        self.assertEqual(g.pool2d(x, "avg", (3, 1), (2, 1), (1, 0)).shape, (1, 4, 18, 35))
        self.assertEqual(g.pool2d(x, "global_avg").shape, (1, 4, 1, 1))
        self.assertEqual(g.pool2d(x, "global_max").shape, (1, 4, 1, 1))

    def test_other_shapes(self):
        g = Graph("t", batch=2)
        x = g.input((6, 4, 4))
        a = g.conv2d(x, 3)
        b = g.conv2d(x, 5)
        c = g.concat([a, b, a])
        self.assertEqual(c.shape, (2, 11, 4, 4))
        self.assertEqual(g.slice(c, 3, 8).shape, (2, 5, 4, 4))
        self.assertEqual(g.add(a, a, a).shape, a.shape)
        self.assertEqual(g.mul(a, a).shape, a.shape)
        self.assertEqual(g.relu(c).shape, c.shape)
        f = g.flatten(c)
        self.assertEqual(f.shape, (2, 11 * 16))
        l = g.linear(f, 10)
        self.assertEqual(l.shape, (2, 10))
        self.assertEqual(l.op.params[0].shape, (10, 176))
        self.assertEqual(g.softmax(l).shape, (2, 10))

    def test_terms(self):
        g = Graph("t")
        x = g.input((4, 8, 8))
        a, b, c = (g.conv2d(x, 4, name=n) for n in "abc")
        self.assertIs(g.terms([[a]]), a)
        s = g.terms([[a, b]], name="sum")
        self.assertEqual((s.op.kind, s.op.name, s.op.unit), ("add", "sum", None))
        cat = g.terms([[a], [b]], name="cat")
        self.assertEqual((cat.op.kind, cat.shape[1], cat.op.unit), ("concat", 8, None))
        mixed = g.terms([[a, b], [c], [b, c, a]], name="mixed")
        self.assertEqual(mixed.shape, (1, 12, 8, 8))
        unit = [op for op in g.ops if op.unit == "mixed"]
        self.assertEqual([op.kind for op in unit], ["add", "add", "concat"])
        self.assertEqual(len(unit[1].operands), 3)


class CheckTest(unittest.TestCase):
    def test_errors(self):
        g = Graph("t")
        x = g.input((6, 8, 8))
        y = g.conv2d(x, 4)
        bad = [
            lambda: g.conv2d(x, 4, groups=4),  # 6 % 4
            lambda: g.conv2d(x, 5, groups=3),  # 5 % 3
            lambda: g.conv2d(x, 4, kernel=11),  # does not fit
            lambda: g.conv2d(x, 4, act="gelu"),
            lambda: g.conv2d(x, 4, kernel=(1, 2, 3)),
            lambda: g.pool2d(x, "max", 3, 1, 2),  # padding > kernel / 2
            lambda: g.pool2d(x, "max"),  # no kernel
            # a window wider than the padded input (PyTorch takes it with
            # ceil_mode; the dialect does not)
            lambda: g.pool2d(x, "avg", (3, 9), 2, 0, ceil_mode=True),
            lambda: g.pool2d(x, "global_avg", 3),
            lambda: g.pool2d(x, "median", 3),
            lambda: g.add(x, y),  # shape mismatch
            lambda: g.add(x),
            lambda: g.concat([x]),
            lambda: g.concat([x, g.pool2d(x, "max", 2)]),
            lambda: g.slice(x, 4, 7),
            lambda: g.slice(x, 3, 3),
            lambda: g.linear(x, 3),  # rank
            lambda: g.activation(x, "none"),
            lambda: g.input((3, 8, 8), full=True),  # full shape without the batch
            lambda: Graph("t2").conv2d(x, 3),  # value of another graph
            lambda: Graph("t", batch=0),
            lambda: Graph("1bad"),
            lambda: g.set_part(-1),
        ]
        for i, fn in enumerate(bad):
            with self.subTest(case=i):
                with self.assertRaises(BuildError):
                    fn()

    def test_no_output(self):
        g = Graph("t")
        g.input((1, 2, 2))
        with self.assertRaises(BuildError):
            g.to_mlir()


class NamingTest(unittest.TestCase):
    def test_unique_names_and_params(self):
        g = Graph("t")
        x = g.input((4, 8, 8))
        with g.scope("blk"):
            a = g.conv2d(x, 4, name="c")
            b = g.conv2d(a, 4, name="c")
            c = g.conv2d(b, 4)
        self.assertEqual([a.op.name, b.op.name, c.op.name], ["blk.c", "blk.c_1", "blk.conv"])
        names = [p.name for p in g.params]
        self.assertEqual(names[:2], ["blk.c.weight", "blk.c.bias"])
        self.assertEqual(len(names), len(set(names)))
        self.assertIn("blk.c_1.weight", names)

    def test_units(self):
        g = Graph("t")
        x = g.input((4, 8, 8))
        with g.unit("u") as uname:
            r = g.relu(x)
            with g.unit("inner"):  # joins the outer unit
                d = g.conv2d(r, 4, kernel=3, padding=1, groups=4, name="dw")
            p = g.conv2d(d, 8, name="pw")
        with g.unit("u"):  # same name again: made unique
            single = g.relu(p)
        self.assertEqual(uname, "u")
        self.assertEqual([op.unit for op in (r.op, d.op, p.op)], ["u"] * 3)
        self.assertEqual(d.op.name, "u.inner.dw")
        self.assertEqual(p.op.params[0].name, "u.pw.weight")
        self.assertIsNone(single.op.unit)  # one-op units carry no attribute
        self.assertEqual(single.op.name, "u_1.relu")
        self.assertEqual([len(u) for u in g.units()], [3, 1])

    def test_parts(self):
        g = Graph("t")
        x = g.input((4, 8, 8))
        a = g.relu(x)
        self.assertEqual(g.next_part(), 0)
        b = g.relu(a)
        self.assertEqual(g.next_part(), 1)
        c = g.relu(b)
        g.set_part(7)
        d = g.relu(c)
        self.assertEqual([v.op.part for v in (a, b, c, d)], [None, 0, 1, 7])
        self.assertEqual(g.parts(), [0, 1, 7])


class PrintTest(unittest.TestCase):
    def build(self):
        g = Graph("sample", batch=2)
        x = g.input((8, 15, 15))
        g.next_part()
        c = g.conv2d(x, 8, kernel=3, stride=2, padding=1, act="relu", name="conv1")
        with g.unit("seq"):
            r = g.relu(c)
            d = g.conv2d(r, 8, kernel=3, padding=1, groups=8, name="dw")
        p = g.pool2d(d, "avg", 3, 2, 1)
        q = g.pool2d(d, "global_max")
        s = g.slice(g.concat([d, c]), 4, 12)
        g.output(g.add(s, s), q)
        return g

    def test_text(self):
        text = self.build().to_mlir()
        self.assertIn("func.func @sample(%input: tensor<2x8x15x15xf32> {ios.input},", text)
        self.assertIn('%conv1.weight: tensor<8x8x3x3xf32> {ios.param = "conv1.weight"}', text)
        self.assertRegex(text, r"%0 = ios.conv2d %input, %conv1.weight, %conv1.bias \{strides = "
                               r"array<i64: 2, 2>, padding = array<i64: 1, 1>, dilations = "
                               r"array<i64: 1, 1>, groups = 1 : i64, act = #ios.act<relu>, "
                               r"ios.part = 0 : i64\} : \(tensor<2x8x15x15xf32>, "
                               r"tensor<8x8x3x3xf32>, tensor<8xf32>\) -> tensor<2x8x8x8xf32> "
                               r'loc\("conv1"\)')
        self.assertIn('%1 = ios.activation relu %0 {ios.unit = "seq", ios.part = 0 : i64} : '
                      'tensor<2x8x8x8xf32> loc("seq.relu")', text)
        self.assertIn("groups = 8 : i64", text)
        self.assertIn("ios.pool2d avg %2 {kernel = array<i64: 3, 3>, strides = array<i64: 2, 2>, "
                      "padding = array<i64: 1, 1>, ios.part = 0 : i64} : tensor<2x8x8x8xf32> -> "
                      "tensor<2x8x4x4xf32>", text)
        self.assertIn("ios.pool2d global_max %2 {ios.part = 0 : i64} : tensor<2x8x8x8xf32> -> "
                      "tensor<2x8x1x1xf32>", text)
        self.assertIn("ios.slice %5[4:12]", text)
        self.assertIn("return %7, %4 : tensor<2x8x8x8xf32>, tensor<2x8x1x1xf32>", text)
        self.assertIn(") -> (tensor<2x8x8x8xf32>, tensor<2x8x1x1xf32>) {", text)
        self.assertNotIn("loc(", self.build().to_mlir(locations=False))

    @unittest.skipUnless(os.path.exists(IOS_OPT), "ios-opt not built")
    def test_ios_opt_accepts(self):
        text = self.build().to_mlir()
        r = subprocess.run([IOS_OPT, "-"], input=text, capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(len(re.findall(r"ios\.conv2d", r.stdout)), 2)


class NewOpsTest(unittest.TestCase):
    """Shapes, checks and printed form of the ops the importers need."""

    def test_shapes_and_text(self):
        g = Graph("n", batch=2)
        x = g.input((4, 7, 6))
        s = g.input((4, 1, 1), name="gate")
        self.assertEqual([a.name for a in g.inputs], ["input", "gate"])
        self.assertEqual(g.pool2d(x, "max", 2, 2, 1, ceil_mode=True).shape, (2, 4, 4, 4))
        self.assertEqual(g.pool2d(x, "max", 3, 2, 0, ceil_mode=True).shape, (2, 4, 3, 3))
        self.assertEqual(g.pool2d(x, "max", 3, 2, 0).shape, (2, 4, 3, 2))
        self.assertEqual(g.pad(x, (1, 2, 3, 4)).shape, (2, 4, 11, 12))
        self.assertEqual(g.mul(s, x).shape, x.shape)
        self.assertEqual(g.add(x, s, x).shape, x.shape)
        self.assertEqual(g.upsample(x, (2, 3)).shape, (2, 4, 14, 18))
        self.assertEqual(g.channel_shuffle(x, 2).shape, x.shape)
        a = g.affine(x, name="bn")
        self.assertEqual([p.name for p in a.op.params], ["bn.scale", "bn.shift"])
        w = g.param("w", (8, 4, 3, 3))
        b = g.param("b", (8,))
        c = g.conv2d(x, weight=w, bias=b, padding=1, act="silu", name="c")
        self.assertEqual(c.shape, (2, 8, 7, 6))
        g.output(c)
        text = g.to_mlir()
        for line in [
                "ios.pool2d max %input {kernel = array<i64: 2, 2>, strides = array<i64: 2, 2>, "
                "padding = array<i64: 1, 1>, ceil_mode} : tensor<2x4x7x6xf32> -> "
                "tensor<2x4x4x4xf32>",
                "ios.pad %input {pads = array<i64: 1, 2, 3, 4>, value = 0.0 : f32} : "
                "tensor<2x4x7x6xf32> -> tensor<2x4x11x12xf32>",
                "ios.mul %gate, %input : tensor<2x4x1x1xf32>, tensor<2x4x7x6xf32>",
                "ios.add %input, %gate, %input : tensor<2x4x7x6xf32>, tensor<2x4x1x1xf32>, "
                "tensor<2x4x7x6xf32>",
                "ios.upsample nearest %input {scale = array<i64: 2, 3>} : tensor<2x4x7x6xf32> -> "
                "tensor<2x4x14x18xf32>",
                "ios.channel_shuffle %input {groups = 2} : tensor<2x4x7x6xf32>",
                "ios.affine %input, %bn.scale, %bn.shift : tensor<2x4x7x6xf32>, tensor<4xf32>, "
                "tensor<4xf32>",
                "act = #ios.act<silu>"]:
            self.assertIn(line, text)
        self.assertIn("func.func @n(%input: tensor<2x4x7x6xf32> {ios.input},\n"
                      "    %gate: tensor<2x4x1x1xf32> {ios.input},", text)
        g2 = Graph("m")
        y = g2.input((3, 5, 5))
        z = g2.pool2d(y, "avg", 3, 2, 1, count_include_pad=False)
        z = g2.pad(z, (0, 0, 1, 1), value=-3.40282347e+38)
        g2.output(z)
        text = g2.to_mlir()
        self.assertIn("padding = array<i64: 1, 1>, count_include_pad = false}", text)
        self.assertIn("value = -3.40282347e+38 : f32}", text)

    def test_float_literals(self):
        self.assertEqual([float_literal(v) for v in (0, 1, -0.5, 1e-7, 1e10, -3.40282347e+38)],
                         ["0.0", "1.0", "-0.5", "1.00000001e-07", "1.0e+10",
                          "-3.40282347e+38"])
        with self.assertRaises(BuildError):
            float_literal(float("-inf"))

    def test_errors(self):
        g = Graph("t")
        x = g.input((6, 8, 8))
        s = g.pool2d(x, "global_avg")
        w = g.param("w", (4, 6, 3, 3))
        bad = [
            lambda: g.pool2d(x, "max", 3, count_include_pad=False),
            lambda: g.pool2d(x, "global_avg", ceil_mode=True),
            lambda: g.pad(x, (1, 1, 1)),
            lambda: g.pad(x, (1, -1, 1, 1)),
            lambda: g.pad(x, (1, 1, 1, 1), value=float("inf")),
            lambda: g.add(x, g.pool2d(x, "max", 2)),
            lambda: g.mul(g.flatten(s), g.flatten(x)),
            lambda: g.mul(g.slice(s, 0, 3), x),  # channels differ
            lambda: g.affine(g.pool2d(x, "max", 2), w, w),
            lambda: g.affine(g.input((2, 3, 4, 5), name="r5")),  # rank 5
            lambda: g.upsample(x, 0),
            lambda: g.upsample(x, 2, mode="bilinear"),
            lambda: g.channel_shuffle(x, 4),
            lambda: g.conv2d(x, weight=w),  # no bias
            lambda: g.conv2d(x, 5, weight=w, bias=g.param("b", (4,))),
            lambda: g.conv2d(x, weight=x, bias=x),  # not parameters
            lambda: g.linear(g.flatten(x), weight=w, bias=w),
            lambda: g.param("w", (1,)),  # duplicate parameter name
        ]
        for i, fn in enumerate(bad):
            with self.subTest(case=i):
                with self.assertRaises(BuildError):
                    fn()


class ParamTest(unittest.TestCase):
    def test_random_params(self):
        def build(extra):
            g = Graph("t")
            x = g.input((16, 8, 8))
            if extra:
                x = g.conv2d(x, 16, name="first")
            y = g.conv2d(x, 32, kernel=3, padding=1, act="relu", name="c")
            g.output(y)
            return g
        g = build(False)
        p0, p1 = g.random_params(0), g.random_params(1)
        self.assertEqual(set(p0), {"c.weight", "c.bias"})
        self.assertEqual(p0["c.weight"].dtype, np.float32)
        self.assertFalse(np.array_equal(p0["c.weight"], p1["c.weight"]))
        np.testing.assert_array_equal(p0["c.weight"], g.random_params(0)["c.weight"])
        # A parameter depends on the seed and its own name, not on the others.
        np.testing.assert_array_equal(p0["c.weight"], build(True).random_params(0)["c.weight"])
        # He-style scale: input second moment 1, fan-in 144, interior fraction of
        # taps 0.5625 * ... -> std = 1 / sqrt(fan_in * frac).
        w = p0["c.weight"]
        frac = ((6 + 2 * 2 / 3) / 8) ** 2
        self.assertAlmostEqual(float(w.std()), 1 / np.sqrt(144 * frac), delta=0.01)
        self.assertLess(float(np.abs(p0["c.bias"]).max()), 0.1)


if __name__ == "__main__":
    unittest.main()
