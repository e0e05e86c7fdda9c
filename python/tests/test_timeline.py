"""Tests of ios.timeline: the Gantt chart of a schedule (SVG structure:
one bar per op with its name as tooltip, one band per stage), the measured
profile's layout and validation, and the command on a real schedule when
the tools are built."""

import json
import os
import subprocess
import sys
import tempfile
import unittest
import xml.etree.ElementTree as ET

from ios import timeline

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD = os.environ.get("IOS_BUILD_DIR", os.path.join(ROOT, "build"))
IOS_OPT = os.path.join(BUILD, "bin", "ios-opt")
IOS_TRANSLATE = os.path.join(BUILD, "bin", "ios-translate")
SVG = "{http://www.w3.org/2000/svg}"


def op(name, kind, start, end, stream):
    return {"name": name, "kind": kind, "start_ms": start, "end_ms": end,
            "stream": stream, "kernels": 0 if start == end else 1}


def function(name="net", strategy="both"):
    """Two stages: [a | b, view], [c]; the view launches no kernel."""
    stages = [
        {"index": 0, "strategy": "concurrent", "estimated_ms": 0.5,
         "model_ms": 0.5, "start_ms": 0.0, "end_ms": 0.5,
         "groups": [[op("blk.a", "conv", 0.01, 0.45, 0)],
                    [op("blk.b", "pool", 0.02, 0.3, 1),
                     op("blk.view", "slice", 0.3, 0.3, 1)]]},
        {"index": 1, "strategy": "concurrent", "estimated_ms": None,
         "model_ms": 0.25, "start_ms": 0.5, "end_ms": 0.75,
         "groups": [[op("c", "concat", 0.5, 0.75, 0)]]},
    ]
    return {"name": name, "device": "v100", "streams": 2, "latency_ms": 0.75,
            "schedule": {"device": "v100", "profiler": "analytic:v100",
                         "strategy": strategy, "latency_ms": 0.75,
                         "sequential_ms": 1.0},
            "stages": stages}


def sequential():
    f = function(strategy="sequential")
    f["streams"] = 1
    f["stages"] = [{"index": i, "strategy": "concurrent", "estimated_ms": None,
                    "model_ms": 0.3, "start_ms": 0.3 * i, "end_ms": 0.3 * (i + 1),
                    "groups": [[op(n, "conv", 0.3 * i, 0.3 * (i + 1), 0)]]}
                   for i, n in enumerate(["blk.a", "blk.b", "blk.view", "c"])]
    f["latency_ms"] = 1.2
    return f


def svg_bars(path):
    """{id: (title, number of shapes)} of the op bars and stage bands."""
    root = ET.parse(path).getroot()
    found = {}
    for g in root.iter(f"{SVG}g"):
        gid = g.get("id") or ""
        if gid.startswith(("op-", "stage-")):
            title = g.find(f"{SVG}title")
            found[gid] = (title.text if title is not None else None,
                          len(g.findall(f"{SVG}path")))
    return found


class RenderTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp()

    def test_one_bar_per_op_and_one_band_per_stage(self):
        out = os.path.join(self.dir, "t.svg")
        f = function()
        bars = timeline.render([("schedule", "IOS", f)], out)
        self.assertEqual(len(bars), 4)
        found = svg_bars(out)
        ops = [(gid, t) for gid, (t, _) in found.items() if gid.startswith("op-")]
        self.assertEqual(len(ops), 4)
        for name in ["blk.a", "blk.b", "blk.view", "c"]:
            matching = [t for _, t in ops if t.startswith(name + " (")]
            self.assertEqual(len(matching), 1, name)
        self.assertIn("blk.b (pool, stream 1): 0.0200-0.3000 ms",
                      [t for _, t in ops])
        # Every bar, even the view's, is exactly one shape.
        self.assertTrue(all(found[gid][1] == 1 for gid, _ in ops))
        bands = sorted(gid for gid in found if gid.startswith("stage-"))
        self.assertEqual(bands, ["stage-schedule-0", "stage-schedule-1"])
        self.assertEqual(found["stage-schedule-1"][0],
                         "stage 1: 0.5000-0.7500 ms, 1 ops")

    def test_sequential_and_scheduled_side_by_side(self):
        out = os.path.join(self.dir, "t.svg")
        timeline.render([("sequential", "Sequential", sequential()),
                         ("schedule", "IOS", function())], out)
        found = svg_bars(out)
        self.assertEqual(sum(g.startswith("op-") for g in found), 8)
        self.assertEqual(sum(g.startswith("stage-sequential-") for g in found), 4)
        self.assertEqual(sum(g.startswith("stage-schedule-") for g in found), 2)

    def test_png(self):
        out = os.path.join(self.dir, "t.png")
        timeline.render([("schedule", "IOS", function())], out)
        with open(out, "rb") as f:
            self.assertEqual(f.read(8), b"\x89PNG\r\n\x1a\n")

    def test_bad_suffix(self):
        with self.assertRaisesRegex(timeline.TimelineError,
                                    r"-o t\.pdf: the suffix must be \.svg or \.png"):
            timeline.render([("schedule", "IOS", function())], "t.pdf")

    def test_labels(self):
        # Full name across a wide bar, the last dotted part when only that
        # fits, along a narrow tall bar, a merged op's first member + count.
        self.assertEqual(timeline._fitting_label("blk.a", 200, 40, 100), ("blk.a", 0))
        self.assertEqual(timeline._fitting_label("block_long_name.a", 30, 40, 100),
                         ("a", 0))
        self.assertEqual(timeline._fitting_label("x.branch1x1", 14, 80, 100),
                         ("x.branch1x1", 90))
        self.assertEqual(timeline._fitting_label("m.b1+m.b2+m.b3", 40, 14, 100),
                         ("b1+2", 0))
        self.assertIsNone(timeline._fitting_label("blk.a", 3, 3, 100))


class ProfileTest(unittest.TestCase):
    def write(self, data):
        fd, path = tempfile.mkstemp(suffix=".json")
        with os.fdopen(fd, "w") as f:
            f.write(data if isinstance(data, str) else json.dumps(data))
        return path

    def test_layout(self):
        path = self.write({"stages": [
            {"index": 0, "ms": 2.0, "ops": [{"name": "blk.a", "ms": 1.5},
                                            {"name": "blk.b", "ms": 0.5},
                                            {"name": "blk.view", "ms": 0.25}]},
            {"index": 1, "ms": 1.0, "ops": [{"name": "c", "ms": 0.75}]}]})
        m = timeline.measured_function(function(), timeline.load_profile(path), path)
        self.assertEqual(m["latency_ms"], 3.0)
        self.assertEqual([(s["start_ms"], s["end_ms"]) for s in m["stages"]],
                         [(0.0, 2.0), (2.0, 3.0)])
        bars = {o["name"]: (o["stream"], o["start_ms"], o["end_ms"], o["kind"])
                for o in timeline.ops_of(m)}
        # Each op on its schedule's stream, a group's ops one after another.
        self.assertEqual(bars["blk.a"], (0, 0.0, 1.5, "conv"))
        self.assertEqual(bars["blk.b"], (1, 0.0, 0.5, "pool"))
        self.assertEqual(bars["blk.view"], (1, 0.5, 0.75, "slice"))
        self.assertEqual(bars["c"], (0, 2.0, 2.75, "concat"))
        out = os.path.join(tempfile.mkdtemp(), "t.svg")
        timeline.render([("schedule", "IOS", function())], out,
                        ("measured", "Measured", m))
        found = svg_bars(out)
        self.assertEqual(sum(g.startswith("op-") for g in found), 8)
        self.assertEqual(sum(g.startswith("stage-measured-") for g in found), 2)

    def test_errors(self):
        cases = [
            ("[]", r"expected an object with a \"stages\" list"),
            ("{", r"not JSON"),
            ({"stages": [{"ms": 1}]}, r"stages\[0\]: expected an object with an integer \"index\""),
            ({"stages": [{"index": 0, "ms": -1}]}, r"stages\[0\]: \"ms\" must be a number >= 0"),
            ({"stages": [{"index": 0, "ms": 1, "ops": [{"name": "a"}]}]},
             r"stages\[0\]\.ops\[0\]: expected"),
        ]
        for data, message in cases:
            path = self.write(data)
            with self.assertRaisesRegex(timeline.TimelineError, message):
                timeline.load_profile(path)
        path = self.write({"stages": [{"index": 5, "ms": 1}]})
        with self.assertRaisesRegex(timeline.TimelineError,
                                    r"stage 5 is not in the schedule of @net \(2 stages\)"):
            timeline.measured_function(function(), timeline.load_profile(path), path)
        path = self.write({"stages": [{"index": 1, "ms": 1,
                                       "ops": [{"name": "blk.a", "ms": 1}]}]})
        with self.assertRaisesRegex(timeline.TimelineError,
                                    r"op 'blk.a' of stage 1 is not in that stage"):
            timeline.measured_function(function(), timeline.load_profile(path), path)


@unittest.skipUnless(os.path.exists(IOS_OPT) and os.path.exists(IOS_TRANSLATE),
                     "needs build/bin/ios-opt and ios-translate")
class CommandTest(unittest.TestCase):
    def run_module(self, *argv):
        env = dict(os.environ, PYTHONPATH=os.path.join(ROOT, "python"),
                   IOS_BUILD_DIR=BUILD)
        return subprocess.run([sys.executable, "-m", *argv], capture_output=True,
                              text=True, env=env)

    def test_sample(self):
        d = tempfile.mkdtemp()
        graph = os.path.join(d, "sample.mlir")
        proc = self.run_module("ios.zoo", "sample", "-o", graph)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        files = {}
        for strategy in ("concurrent", "sequential"):
            files[strategy] = os.path.join(d, f"{strategy}.mlir")
            subprocess.run([IOS_OPT, graph, f"--ios-schedule=strategy={strategy}",
                            "-o", files[strategy]], check=True)
        out = os.path.join(d, "t.svg")
        proc = self.run_module("ios.timeline", files["concurrent"], "--sequential",
                               files["sequential"], "-o", out)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertIn("(10 op bars)", proc.stdout)
        titles = [t for gid, (t, _) in svg_bars(out).items() if gid.startswith("op-")]
        for name in ["conv1", "conv2", "conv3", "conv4", "concat"]:
            # Once in each schedule.
            self.assertEqual(sum(t.startswith(name + " (") for t in titles), 2, name)
        # The scheduled IR is not a timeline: a clear error, exit 1.
        proc = self.run_module("ios.timeline", graph, "-o", out)
        self.assertEqual(proc.returncode, 1)
        self.assertIn("function @sample is not scheduled", proc.stderr)


if __name__ == "__main__":
    unittest.main()
