"""Fits the analytic GPU model's constants to the IOS paper's V100 numbers.

Data fitted (docs/IOS.md, "Published measurements", V100, batch 1):
  * Sequential and Greedy latency of Inception V3, RandWire, NasNet and
    SqueezeNet (8 numbers);
  * the README sample network: its sequential latency (0.486 ms) and its
    IOS-Parallel schedule (0.333 ms, with the 0.161 ms stage of two 3x3
    convolutions side by side).
IOS-Merge, IOS-Parallel and IOS-Both of the four networks are *not* fitted:
they are the held-out check that ``python3 -m ios.bench.schedules`` prints.

The fit minimises the sum of squared log errors with Nelder-Mead over the
logarithms of the free constants, starting from the built-in V100 values,
and prints a device JSON (``--out FILE``) and the residuals.

    python3 -m ios.bench.calibrate [--iterations N] [--out v100.json]
"""

import argparse
import json
import math
import os
import sys
import tempfile

import numpy as np

from ios import zoo
from ios.bench.schedules import PAPER, default_build_dir, schedule

FREE = ("convEfficiency", "winogradSpeedup", "memEfficiency",
        "depthwiseEfficiency", "tileM", "kernelLatencyUs", "launchUs",
        "convLaunchUs", "joinUs", "contentionPenalty")
START = {"convEfficiency": 0.6, "winogradSpeedup": 1.8, "memEfficiency": 0.7,
         "depthwiseEfficiency": 0.3, "tileM": 64, "kernelLatencyUs": 3.0,
         "launchUs": 5.0, "convLaunchUs": 8.0, "joinUs": 15.0,
         "contentionPenalty": 0.1}
BOUNDS = {"convEfficiency": (0.05, 1.0), "winogradSpeedup": (1.0, 4.0),
          "memEfficiency": (0.05, 1.0), "depthwiseEfficiency": (0.02, 1.0),
          "tileM": (8, 256), "kernelLatencyUs": (0.5, 20),
          "launchUs": (1, 20), "convLaunchUs": (1, 30), "joinUs": (1, 100),
          "contentionPenalty": (0.001, 2.0)}


def device_json(params):
    d = {"name": "v100-fit"}
    for k, v in params.items():
        d[k] = v
    # Square tiles: the model only sees the tile's area and rounding.
    d["tileN"] = d["tileM"] = max(1, int(round(params["tileM"])))
    return d


class Objective:
    def __init__(self, build_dir, tmp):
        self.ios_opt = os.path.join(build_dir, "bin", "ios-opt")
        self.tmp = tmp
        self.models = {}
        for model in list(PAPER) + ["sample"]:
            path = os.path.join(tmp, model + ".mlir")
            with open(path, "w") as f:
                f.write(zoo.build(model, batch=1).to_mlir())
            self.models[model] = path
        self.device = os.path.join(tmp, "device.json")
        self.evaluations = 0

    def predictions(self, params):
        with open(self.device, "w") as f:
            json.dump(device_json(params), f)
        out = {}
        for model in PAPER:
            for i, s in ((0, "sequential"), (1, "greedy")):
                report, _ = schedule(self.ios_opt, self.models[model], s,
                                     self.device)
                out[(model, s)] = (report["latency_ms"], PAPER[model][i])
        sample = self.models["sample"]
        seq, _ = schedule(self.ios_opt, sample, "sequential", self.device)
        par, _ = schedule(self.ios_opt, sample, "concurrent", self.device)
        out[("sample", "sequential")] = (seq["latency_ms"], 0.486)
        out[("sample", "concurrent")] = (par["latency_ms"], 0.333)
        return out

    def __call__(self, x):
        params = unpack(x)
        self.evaluations += 1
        pred = self.predictions(params)
        return sum(math.log(p / r) ** 2 for p, r in pred.values())


def pack(params):
    return np.array([math.log(params[k]) for k in FREE])


def unpack(x):
    out = {}
    for k, v in zip(FREE, x):
        lo, hi = BOUNDS[k]
        out[k] = float(min(max(math.exp(v), lo), hi))
    return out


def nelder_mead(f, x0, iterations, step=0.3):
    n = len(x0)
    simplex = [x0] + [x0 + step * np.eye(n)[i] for i in range(n)]
    values = [f(x) for x in simplex]
    for it in range(iterations):
        order = np.argsort(values)
        simplex = [simplex[i] for i in order]
        values = [values[i] for i in order]
        centroid = np.mean(simplex[:-1], axis=0)
        worst = simplex[-1]
        reflected = centroid + (centroid - worst)
        fr = f(reflected)
        if fr < values[0]:
            expanded = centroid + 2 * (centroid - worst)
            fe = f(expanded)
            simplex[-1], values[-1] = (expanded, fe) if fe < fr else (reflected, fr)
        elif fr < values[-2]:
            simplex[-1], values[-1] = reflected, fr
        else:
            contracted = centroid + 0.5 * (worst - centroid)
            fc = f(contracted)
            if fc < values[-1]:
                simplex[-1], values[-1] = contracted, fc
            else:
                best = simplex[0]
                simplex = [best] + [best + 0.5 * (x - best) for x in simplex[1:]]
                values = [values[0]] + [f(x) for x in simplex[1:]]
        print(f"iteration {it + 1}: best {min(values):.5f}", file=sys.stderr)
    i = int(np.argmin(values))
    return simplex[i], values[i]


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python3 -m ios.bench.calibrate",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("--iterations", type=int, default=60,
                        help="Nelder-Mead iterations (default 60)")
    parser.add_argument("--build-dir", default=default_build_dir(),
                        help="the build folder holding bin/ios-opt (default: build/)")
    parser.add_argument("--start", help="device JSON to start from")
    parser.add_argument("--out", help="write the fitted device JSON here")
    args = parser.parse_args(argv)
    start = dict(START)
    if args.start:
        with open(args.start) as f:
            start.update({k: v for k, v in json.load(f).items() if k in FREE})
    with tempfile.TemporaryDirectory() as tmp:
        objective = Objective(args.build_dir, tmp)
        x, value = nelder_mead(objective, pack(start), args.iterations)
        params = unpack(x)
        pred = objective.predictions(params)
    print(f"loss {value:.5f} after {objective.evaluations} evaluations")
    for (model, s), (p, r) in pred.items():
        print(f"{model:<13}{s:<11}{p:8.3f} ms vs {r:6.3f} ({100 * (p / r - 1):+6.1f}%)")
    fitted = device_json(params)
    print(json.dumps(fitted, indent=2))
    if args.out:
        with open(args.out, "w") as f:
            json.dump(fitted, f, indent=2)
            f.write("\n")


if __name__ == "__main__":
    main()
