"""ios.mlir_reader: every zoo network round-trips (builder text and ios-opt's
printed form) to the same graph and the same reference output; every new op;
malformed input with file:line:col messages."""

import os
import shutil
import subprocess
import unittest

import numpy as np

from ios import mlir_reader, reference, zoo
from ios.builder import Graph
from ios.mlir_reader import MlirReadError

try:
    import torch
    torch.set_num_threads(2)
except ImportError:  # pragma: no cover
    torch = None

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.environ.get("IOS_BUILD_DIR", os.path.join(ROOT, "build"))
IOS_OPT = os.path.join(BUILD, "bin", "ios-opt")


def new_ops_graph():
    """A graph with every new op and attribute (ios-opt does not know them yet)."""
    g = Graph("new_ops", batch=2)
    x = g.input((4, 9, 9))
    s = g.input((4, 1, 1), name="gate")
    y = g.conv2d(x, 8, 3, act="hardswish")
    p = g.pad(y, (0, 0, 1, 1), value=-3.40282347e+38)
    m = g.pool2d(p, "max", 3, 2, ceil_mode=True)
    a = g.pool2d(y, "avg", 3, 2, 1, ceil_mode=True, count_include_pad=False)
    gp = g.pool2d(a, "global_avg")
    z = g.add(gp, g.mul(a, gp), a)
    z = g.affine(z)
    u = g.channel_shuffle(g.upsample(z, (2, 1)), 4)
    for kind in ("relu6", "hardsigmoid", "silu"):
        u = g.activation(u, kind)
    g.output(u, m, g.mul(s, x))
    return g


@unittest.skipIf(torch is None, "needs python3-torch")
class RoundTripTest(unittest.TestCase):
    def same_outputs(self, g1, g2, seed=0):
        params = g1.random_params(seed)
        x = reference.random_input(g1, seed)
        for a, b in zip(reference.run(g1, params, x), reference.run(g2, params, x)):
            self.assertTrue(torch.equal(a, b))

    def test_zoo(self):
        for name in zoo.MODELS:
            with self.subTest(model=name):
                g = zoo.build(name)
                text = g.to_mlir()
                g2 = mlir_reader.parse(text)
                self.assertEqual(g2.to_mlir(), text)
                self.assertEqual(g2.structure(names=True), g.structure(names=True))
                self.same_outputs(g, g2)

    @unittest.skipUnless(os.path.exists(IOS_OPT), "needs build/bin/ios-opt")
    def test_ios_opt_printed(self):
        for name in ("sample", "squeezenet", "nasnet"):
            with self.subTest(model=name):
                g = zoo.build(name, batch=2)
                printed = subprocess.run([IOS_OPT, "--mlir-print-debuginfo"],
                                         input=g.to_mlir(), capture_output=True, text=True,
                                         check=True).stdout
                g2 = mlir_reader.parse(printed)
                # same ops, names, attributes, units and parts; arguments renamed %argN
                self.assertEqual(g2.structure(names=True), g.structure(names=True))
                self.assertEqual([(a.shape, a.is_input) for a in g2.args],
                                 [(a.shape, a.is_input) for a in g.args])
                if name != "nasnet":
                    self.same_outputs(g, g2)

    def test_new_ops(self):
        g = new_ops_graph()
        text = g.to_mlir()
        g2 = mlir_reader.parse(text)
        self.assertEqual(g2.to_mlir(), text)
        self.assertEqual(g2.structure(names=True), g.structure(names=True))
        self.same_outputs(g, g2)
        # attributes in another order, defaults omitted, aliases, module, fused locations
        text = """
#l = loc("pool"("f.mlir":3:4))
!t = tensor<1x2x5x5xf32>
module attributes {x = 1 : i64} {
  func.func @m(%arg0: !t {ios.input} loc(unknown)) -> (tensor<1x2x3x3xf32>) {
    %0 = ios.pool2d avg %arg0 {count_include_pad = false, ceil_mode, strides = array<i64: 2, 2>, kernel = array<i64: 2, 2>, ios.unit = "u \\"q\\""} : !t -> tensor<1x2x3x3xf32> loc(#l)
    %1 = ios.activation relu %0 {ios.part = 3 : i64} : tensor<1x2x3x3xf32> loc(fused["f.mlir":1:2, "act"])
    return %1 : tensor<1x2x3x3xf32> loc("f.mlir":9:9)
  } loc("f.mlir":1:1)
} loc(#l)
"""
        g = mlir_reader.parse(text)
        pool, act = g.ops
        self.assertEqual((pool.name, pool.unit, act.name, act.part), ("pool", 'u "q"', "act", 3))
        self.assertEqual(pool.attrs, {"kernel": (2, 2), "strides": (2, 2), "padding": (0, 0),
                                      "ceil_mode": True, "count_include_pad": False,
                                      "kind": "avg"})


class ErrorTest(unittest.TestCase):
    HEAD = "func.func @f(%x: tensor<1x2x4x4xf32> {ios.input}) -> tensor<1x2x4x4xf32> {\n"

    def test_messages(self):
        cases = [
            ("  %0 = ios.activation gelu %x : tensor<1x2x4x4xf32>\n  return %0 : "
             "tensor<1x2x4x4xf32>\n}",
             "f.mlir:2:3: ios.activation: unknown activation 'gelu'; expected one of relu, "
             "sigmoid, tanh, relu6, hardsigmoid, hardswish, silu"),
            ("  %0 = ios.flatten %x : tensor<1x2x4x4xf32> -> tensor<1x8xf32>\n  return %0 : "
             "tensor<1x2x4x4xf32>\n}",
             "f.mlir:2:3: ios.flatten: declared result type [1, 8] but the op gives [1, 32]"),
            ("  %0 = ios.relu %x : tensor<1x2x4x4xf32>\n}",
             "f.mlir:2:3: unsupported op ios.relu"),
            ("  %0 = ios.stage concurrent {\n",
             "f.mlir:2:3: unsupported op ios.stage: schedules cannot be read, read the graph "
             "before --ios-schedule"),
            ("  %0 = ios.pool2d max %x {kernel = array<i64: 2, 2>, dilations = array<i64: 1, 1>}"
             " : tensor<1x2x4x4xf32> -> tensor<1x2x2x2xf32>\n  return %x : tensor<1x2x4x4xf32>\n}",
             "f.mlir:2:3: ios.pool2d: unknown attributes ['dilations']"),
            ("  %0 = ios.add %x, %y : tensor<1x2x4x4xf32>\n  return %x : tensor<1x2x4x4xf32>\n}",
             "f.mlir:2:3: ios.add: use of undefined value %y"),
            ('  %0 = "ios.add"(%x, %x) : (tensor<1x2x4x4xf32>, tensor<1x2x4x4xf32>) -> '
             'tensor<1x2x4x4xf32>\n}', "f.mlir:2:8: the generic op form is not supported"),
            ("  return %x : tensor<1x2x4x4xf32>\n", "f.mlir:3:1: expected an op result, found ''"),
            ("  %0 = ios.mul %x, %x : tensor<1x2x4x4xf64>\n}",
             "f.mlir:2:25: expected a statically shaped f32 tensor type"),
        ]
        for body, message in cases:
            with self.subTest(message=message):
                with self.assertRaises(MlirReadError) as cm:
                    mlir_reader.parse(self.HEAD + body, "f.mlir")
                self.assertEqual(str(cm.exception), message)
        with self.assertRaises(MlirReadError) as cm:
            mlir_reader.parse("func.func @f(%w: tensor<2xf32>) -> tensor<2xf32> {\n"
                              "  return %w : tensor<2xf32>\n}", "g.mlir")
        self.assertEqual(str(cm.exception), "g.mlir:1:14: no argument is marked {ios.input}")


if __name__ == "__main__":
    unittest.main()
