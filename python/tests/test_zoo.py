"""The zoo networks against the IOS reference implementation's numbers.

Expected values come from docs/IOS.md, "The networks" (counted on IOS's own model
code): primitive op mix, scheduling units per block / part, and the number of
DP states (non-empty down-closed subsets of each part's unit DAG), which
depends on every edge of the graph.
"""

import os
import re
import subprocess
import sys
import tempfile
import unittest

import numpy as np

from ios import reference, safetensors, zoo
from ios.zoo import randwire as rw

try:
    import torch
    torch.set_num_threads(2)
except ImportError:  # pragma: no cover
    torch = None

PYTHON_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

EXPECTED = {
    "sample": dict(
        ops={"ios.conv2d": 4, "ios.concat": 1}, units=5, part_units=[5], states=[12],
        output=(1875, 15, 15), input=(375, 15, 15)),
    "inception_v3": dict(
        ops={"ios.conv2d": 94, "ios.pool2d": 14, "ios.concat": 11}, units=119,
        part_units=[7, 9, 9, 9, 6, 12, 12, 12, 12, 8, 11, 11, 1],
        states=[7, 72, 72, 72, 16, 144, 144, 144, 144, 30, 180, 180, 1],
        output=(2048, 1, 1), input=(3, 299, 299)),
    "squeezenet": dict(
        ops={"ios.conv2d": 30, "ios.pool2d": 4, "ios.concat": 8, "ios.add": 8}, units=50,
        part_units=[2, 6, 5, 6, 1, 5, 6, 5, 6, 1, 5, 2], states_total=78,
        output=(1000, 1, 1), input=(3, 224, 224)),
    "randwire": dict(
        ops={"ios.conv2d": 226, "ios.activation": 113, "ios.pool2d": 1}, units=120,
        part_units=[1, 17, 33, 33, 33, 3], states=[1, 235, 4276, 5420, 4799, 3],
        output=(1280, 1, 1), input=(3, 224, 224)),
    "nasnet": dict(
        ops={"ios.conv2d": 488, "ios.activation": 268, "ios.pool2d": 71}, units=374,
        part_units=[1, 18, 21, 18] + [16] * 5 + [19, 18] + [16] * 5 + [19, 18] + [16] * 5
        + [1, 1],
        states_total=42966, output=(3360, 1, 1), input=(3, 331, 331)),
}


def unit_dag(graph):
    """Units per part and the edges between units of the same part."""
    units = graph.units()
    unit_of = {}
    for i, u in enumerate(units):
        for op in u:
            unit_of[id(op.result)] = i
    preds = [set() for _ in units]
    for i, u in enumerate(units):
        for op in u:
            for v in op.inputs:
                j = unit_of.get(id(v))
                if j is not None and j != i and units[j][0].part == u[0].part:
                    preds[i].add(j)
    return units, preds


def count_ideals(nodes, preds):
    """Non-empty down-closed subsets of the DAG induced on ``nodes``."""
    index = {n: k for k, n in enumerate(nodes)}
    pmask = [sum(1 << index[p] for p in preds[n] if p in index) for n in nodes]
    seen = {0}
    frontier = [0]
    while frontier:
        nxt = []
        for s in frontier:
            for k in range(len(nodes)):
                bit = 1 << k
                if not s & bit and pmask[k] & s == pmask[k]:
                    t = s | bit
                    if t not in seen:
                        seen.add(t)
                        nxt.append(t)
        frontier = nxt
    return len(seen) - 1


class StructureTest(unittest.TestCase):
    def test_counts(self):
        for name, exp in EXPECTED.items():
            with self.subTest(model=name):
                g = zoo.build(name)
                s = g.stats()
                for k, v in exp["ops"].items():
                    self.assertEqual(s["ops_by_mnemonic"].get(k, 0), v, k)
                self.assertEqual(s["units"], exp["units"])
                parts = g.parts()
                self.assertEqual(parts, list(range(len(exp["part_units"]))))
                units = g.units()
                for u in units:  # a unit never spans two parts
                    self.assertEqual(len({op.part for op in u}), 1)
                self.assertEqual([sum(1 for u in units if u[0].part == p) for p in parts],
                                 exp["part_units"])
                self.assertEqual(g.input_arg.shape, (1,) + exp["input"])
                self.assertEqual([v.shape for v in g.outputs], [(1,) + exp["output"]])

    def test_dp_states(self):
        for name, exp in EXPECTED.items():
            with self.subTest(model=name):
                g = zoo.build(name)
                units, preds = unit_dag(g)
                per_part = [count_ideals([i for i, u in enumerate(units) if u[0].part == p], preds)
                            for p in g.parts()]
                if "states" in exp:
                    self.assertEqual(per_part, exp["states"])
                else:
                    self.assertEqual(sum(per_part), exp["states_total"])

    def test_unit_composition(self):
        kinds = {}
        for name in EXPECTED:
            g = zoo.build(name)
            sig = {}
            for u in g.units():
                key = tuple(op.kind for op in u)
                sig[key] = sig.get(key, 0) + 1
            kinds[name] = sig
        # NasNet: 268 relu = 220 ReluSepConv + 47 ReluConv + the final relu;
        # 34 identities (sums and concats) as IOS counts them.
        nas = kinds["nasnet"]
        self.assertEqual(nas[("activation", "conv2d", "conv2d")], 220)
        self.assertEqual(nas[("activation", "conv2d")], 47)
        self.assertEqual(nas[("activation",)], 1)
        ident = sum(v for k, v in nas.items() if set(k) <= {"add", "concat"})
        self.assertEqual(ident, 34)
        # RandWire: every graph node is [add?, relu, dw, pw].
        r = kinds["randwire"]
        self.assertEqual(r.get(("activation", "conv2d", "conv2d"), 0) +
                         r.get(("add", "activation", "conv2d", "conv2d"), 0), 112)

    def test_units_are_single_exit_chains(self):
        # The ops of a unit are contiguous, and only the last one's result is
        # used outside the unit (the scheduler may treat a unit as one node).
        for name in EXPECTED:
            with self.subTest(model=name):
                g = zoo.build(name)
                users = {}
                for op in g.ops:
                    for v in op.inputs:
                        users.setdefault(id(v), []).append(op)
                for u in g.units():
                    self.assertEqual([op.index for op in u],
                                     list(range(u[0].index, u[0].index + len(u))))
                    for op in u[:-1]:
                        self.assertTrue(all(user in u for user in users.get(id(op.result), [])),
                                        op.name)
                        self.assertNotIn(op.result, g.outputs)

    def test_randwire_wiring(self):
        g = zoo.build("randwire")
        by_name = {op.name: op for op in g.ops}
        for i, fname in enumerate(rw.STAGE_GRAPHS):
            n, edges = rw.read_graph(os.path.join(rw.GRAPH_DIR, fname))
            ch = 154 << i
            ins = {v: [u for (u, w) in edges if w == v] for v in range(n)}
            for v in range(n):
                relu = by_name[f"stage{i + 1}.node{v}.relu"]
                dw = by_name[f"stage{i + 1}.node{v}.dw"]
                pw = by_name[f"stage{i + 1}.node{v}.pw"]
                self.assertEqual(dw.attrs["groups"], dw.operands[0].channels)
                self.assertEqual(dw.attrs["strides"], (1, 1) if ins[v] else (2, 2))
                self.assertEqual(pw.result.channels, ch)
                src = relu.operands[0]
                if len(ins[v]) > 1:
                    self.assertEqual(src.op.kind, "add")
                    got = sorted(int(re.search(r"node(\d+)", x.op.name).group(1))
                                 for x in src.op.operands)
                    self.assertEqual(got, sorted(ins[v]))
                elif ins[v]:
                    self.assertEqual(src.op.name, f"stage{i + 1}.node{ins[v][0]}.pw")

    def test_batch_in_types(self):
        for name in ("sample", "squeezenet"):
            g = zoo.build(name, batch=4)
            self.assertTrue(all(op.result.shape[0] == 4 for op in g.ops))
            self.assertIn(f"tensor<4x{EXPECTED[name]['input'][0]}x", g.to_mlir())
        with self.assertRaises(zoo.UnknownModelError):
            zoo.build("resnet")

    def test_mlir_text(self):
        for name in EXPECTED:
            with self.subTest(model=name):
                g = zoo.build(name, batch=2)
                text = g.to_mlir()
                params = re.findall(r'ios\.param = "([^"]+)"', text)
                self.assertEqual(params, [a.name for a in g.params])
                self.assertEqual(len(set(params)), len(params))
                units = set(re.findall(r'ios\.unit = "([^"]+)"', text))
                op_lines = [l for l in text.splitlines() if re.match(r"\s+%\d+ = ios\.", l)]
                self.assertEqual(len(op_lines), len(g.ops))
                single = sum(1 for l in op_lines if "ios.unit" not in l)
                self.assertEqual(len(units) + single, EXPECTED[name]["units"])
                self.assertTrue(all("ios.part = " in l for l in op_lines))


@unittest.skipIf(torch is None, "PyTorch is not installed")
class ReferenceRunTest(unittest.TestCase):
    def test_every_model_finite(self):
        for name in EXPECTED:
            with self.subTest(model=name):
                g = zoo.build(name)
                params = g.random_params(0)
                x = reference.random_input(g, 0)
                moments = []
                out = reference.run(g, params, x, lambda op, y: moments.append(
                    (float(torch.mean(y.double() ** 2)), op.name)))
                self.assertEqual(len(moments), len(g.ops))
                y = out[0].numpy()
                self.assertTrue(np.isfinite(y).all())
                self.assertGreater(float(y.std()), 0.1)
                # Activations neither explode nor vanish anywhere in the network.
                lo, hi = min(moments), max(moments)
                self.assertGreater(lo[0], 1e-2, lo[1])
                self.assertLess(hi[0], 1e2, hi[1])

    def test_batch_consistency(self):
        g1, g3 = zoo.build("squeezenet", 1), zoo.build("squeezenet", 3)
        params = g1.random_params(7)
        x = reference.random_input(g3, 7)
        (y3,) = reference.run(g3, params, x)
        (y1,) = reference.run(g1, params, x[1:2])
        np.testing.assert_allclose(y3[1:2].numpy(), y1.numpy(), rtol=1e-5, atol=1e-5)
        self.assertFalse(np.allclose(y3[0].numpy(), y3[1].numpy()))


class NetTest(unittest.TestCase):
    """IOS node constructors: one scheduling unit per node, inputs as terms."""

    def test_nodes(self):
        from ios.zoo.common import Net
        net = Net("t", 2, (8, 10, 10))
        x = net.input
        net.block()
        a = net.conv(x, 8, kernel=3, padding=1, name="a")
        b = net.conv([[x, a]], 4, name="b")  # sum input -> [add, conv] unit
        c = net.pool([[a], [x]], "max", 3, 2, 1, name="c")  # concat input
        d = net.relu_sep_conv([[a, x], [b]], 6, 3, 2, 1, name="d")
        e = net.sep_conv(b, 6, 5, 2, 2, name="e")
        f = net.relu_conv(b, 6, 1, 2, name="f")
        out = net.identity([[d, e], [c], [f, e]], name="out")
        g = net.finish(out)
        self.assertEqual(net.nodes, 7)
        self.assertEqual(len(g.units()), 7)
        kinds = [[op.kind for op in u] for u in g.units()]
        self.assertEqual(kinds, [["conv2d"], ["add", "conv2d"], ["concat", "pool2d"],
                                 ["add", "concat", "activation", "conv2d", "conv2d"],
                                 ["conv2d", "conv2d"], ["activation", "conv2d"],
                                 ["add", "add", "concat"]])
        self.assertEqual(c.shape, (2, 16, 5, 5))
        dw = g.units()[3][3]
        self.assertEqual((dw.attrs["groups"], dw.result.shape), (12, (2, 12, 5, 5)))
        self.assertEqual(out.shape, (2, 6 + 16 + 6, 5, 5))
        self.assertEqual(g.parts(), [0])
        self.assertEqual(net.identity([[a]], name="alias").op.kind, "slice")


class CommandLineTest(unittest.TestCase):
    def run_cli(self, *args):
        env = dict(os.environ, PYTHONPATH=PYTHON_DIR)
        return subprocess.run([sys.executable, "-m", "ios.zoo", *args],
                              capture_output=True, text=True, env=env)

    def test_list(self):
        r = self.run_cli("--list")
        self.assertEqual(r.returncode, 0)
        self.assertEqual([l.split()[0] for l in r.stdout.splitlines()], list(zoo.MODELS))

    def test_errors(self):
        for args, msg in [(["vgg"], "unknown model 'vgg'"),
                          (["sample", "--batch", "0"], "argument --batch: invalid value '0'"),
                          (["sample", "--batch", "two"], "argument --batch: invalid value 'two'"),
                          ([], "a MODEL (or --list) is required")]:
            with self.subTest(args=args):
                r = self.run_cli(*args)
                self.assertEqual(r.returncode, 2)
                self.assertIn(msg, r.stderr)
                self.assertEqual(r.stdout, "")

    def test_outputs(self):
        with tempfile.TemporaryDirectory() as d:
            mlir, w = os.path.join(d, "m.mlir"), os.path.join(d, "w.safetensors")
            r = self.run_cli("squeezenet", "--batch", "3", "-o", mlir, "--weights", w,
                             "--seed", "9", "--stats")
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertIn("units: 50\n", r.stdout)
            self.assertIn("op ios.conv2d: 30\n", r.stdout)
            self.assertIn("param tensors: 60\n", r.stdout)
            g = zoo.build("squeezenet", batch=3)
            with open(mlir) as f:
                self.assertEqual(f.read(), g.to_mlir())
            tensors, meta = safetensors.load(w)
            self.assertEqual(meta["model"], "squeezenet")
            self.assertEqual(meta["seed"], "9")
            want = g.random_params(9)
            self.assertEqual(list(tensors), list(want))
            for k in want:
                np.testing.assert_array_equal(tensors[k], want[k])
            r = self.run_cli("sample", "--no-parts", "--no-locations")
            self.assertEqual(r.returncode, 0)
            self.assertNotIn("ios.part", r.stdout)
            self.assertNotIn("loc(", r.stdout)
            self.assertIn("func.func @sample(%input: tensor<1x375x15x15xf32> {ios.input}",
                          r.stdout)


if __name__ == "__main__":
    unittest.main()
