"""ios.fuzz.graphs: random graphs are deterministic, varied, evaluate with the
reference, and ios-opt verifies, schedules and emits them."""

import collections
import os
import subprocess
import sys
import tempfile
import unittest

from ios import reference
from ios.builder import Graph
from ios.fuzz.graphs import random_graph

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.environ.get("IOS_BUILD_DIR", os.path.join(ROOT, "build"))
IOS_OPT = os.path.join(BUILD, "bin", "ios-opt")
IOS_TRANSLATE = os.path.join(BUILD, "bin", "ios-translate")

SEEDS = range(60)


class RandomGraphTest(unittest.TestCase):
    def test_deterministic(self):
        for seed in (0, 7, 123456):
            a, b = random_graph(seed), random_graph(seed)
            self.assertEqual(a.to_mlir(), b.to_mlir())
            self.assertEqual(a.structure(), b.structure())
        self.assertNotEqual(random_graph(1).to_mlir(), random_graph(2).to_mlir())

    def test_varied(self):
        """Over a few dozen seeds: every op kind, every conv feature."""
        kinds = collections.Counter()
        conv = collections.Counter()
        outputs = collections.Counter()
        for seed in SEEDS:
            g = random_graph(seed)
            self.assertIsInstance(g, Graph)
            self.assertLessEqual(len(g.ops), 60)
            outputs[min(len(g.outputs), 2)] += 1
            for op in g.ops:
                kinds[op.kind] += 1
                a = op.attrs
                if op.kind == "conv2d":
                    conv["groups"] += a["groups"] > 1
                    conv["stride"] += a["strides"] != (1, 1)
                    conv["dilation"] += a["dilations"] != (1, 1)
                    conv["non-square"] += op.operands[1].shape[2] != op.operands[1].shape[3]
                    conv["padding"] += a["padding"] != (0, 0)
                if op.kind == "pool2d":
                    conv["ceil_mode"] += bool(a.get("ceil_mode"))
                    conv["exclude pad"] += a.get("count_include_pad") is False
        for kind in ("conv2d", "pool2d", "activation", "add", "mul", "concat", "slice", "pad",
                     "upsample", "channel_shuffle", "affine", "flatten", "linear", "softmax"):
            self.assertGreater(kinds[kind], 0, kind)
        for feature in ("groups", "stride", "dilation", "non-square", "padding", "ceil_mode",
                        "exclude pad"):
            self.assertGreater(conv[feature], 0, feature)
        self.assertGreater(outputs[2], 0)  # graphs with several outputs

    def test_reference_evaluates(self):
        for seed in SEEDS[:20]:
            g = random_graph(seed)
            outs = reference.run(g, g.random_params(seed), reference.random_input(g, seed))
            self.assertEqual([tuple(y.shape) for y in outs], [v.shape for v in g.outputs])
            for y in outs:
                self.assertTrue(bool(y.isfinite().all()), f"seed {seed}")

    @unittest.skipUnless(os.path.exists(IOS_OPT) and os.path.exists(IOS_TRANSLATE),
                         "needs build/bin/ios-opt and ios-translate")
    def test_schedule_and_emit(self):
        """The driver's steps 2 and 3 on one batch: no graph is rejected,
        both strategies schedule every function, IOS-Both merges some."""
        with tempfile.TemporaryDirectory() as out:
            r = subprocess.run(
                [sys.executable, "-m", "ios.fuzz.differential", "--graphs", "12", "--batch-size", "6",
                 "--seed", "3", "--emit-only", "--out", out, "--build-dir", BUILD],
                capture_output=True, text=True,
                env=dict(os.environ, PYTHONPATH=os.path.join(ROOT, "python")))
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            self.assertIn("failures                           0", r.stdout)
            self.assertRegex(r.stdout, r"merge stages \(both\) +[1-9]")


if __name__ == "__main__":
    unittest.main()
