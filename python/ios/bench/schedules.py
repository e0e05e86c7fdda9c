"""Schedules every zoo network with ios-opt and prints the IOS paper's table.

For each network (batch 1, r=3, s=8, max-part-size=50 as in IOS's
experiments): the estimated latency of the sequential, greedy (10 streams),
IOS-Merge, IOS-Parallel (concurrent) and IOS-Both schedules under the chosen
profiler, the paper's V100 measurements beside them, and the search
statistics of each run (search time, DP states, transitions, profiler calls).

    python3 -m ios.bench.schedules [--device v100|FILE.json] [--models ...]
"""

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time

from ios import zoo

# docs/IOS.md, "Published measurements" (V100, batch 1, ms): Sequential, Greedy, IOS-Merge,
# IOS-Parallel, IOS-Both.
PAPER = {
    "inception_v3": (6.51, 4.62, 5.39, 4.11, 4.03),
    "randwire": (8.49, 6.27, 8.54, 6.02, 6.02),
    "nasnet": (22.95, 16.78, 22.94, 16.04, 16.04),
    "squeezenet": (0.86, 0.98, 0.74, 0.82, 0.73),
}
STRATEGIES = ("sequential", "greedy", "merge", "concurrent", "both")
MODELS = ("inception_v3", "randwire", "nasnet", "squeezenet")


def default_build_dir():
    here = os.path.dirname(os.path.abspath(__file__))
    return os.environ.get("IOS_BUILD_DIR",
                          os.path.join(here, "..", "..", "..", "build"))


def schedule(ios_opt, mlir_path, strategy, device, profiler="analytic",
             extra=()):
    """Runs --ios-schedule; returns (report of the function, wall seconds)."""
    with tempfile.TemporaryDirectory() as tmp:
        report = os.path.join(tmp, "report.json")
        groups = 10 if strategy == "greedy" else 8
        options = [f"strategy={strategy}", "max-group-size=3",
                   f"max-groups={groups}", "max-part-size=50",
                   f"profiler={profiler}", f"device={device}",
                   f"report={report}", *extra]
        start = time.perf_counter()
        subprocess.run([ios_opt, mlir_path,
                        "--ios-schedule=" + " ".join(options),
                        "-o", os.devnull], check=True)
        wall = time.perf_counter() - start
        with open(report) as f:
            data = json.load(f)
    (function,) = data["functions"].values()
    function["profiler_calls_total"] = data["profiler_calls"]
    return function, wall


def run(models, device, build_dir, out=sys.stdout):
    ios_opt = os.path.join(build_dir, "bin", "ios-opt")
    rows = {}
    with tempfile.TemporaryDirectory() as tmp:
        for model in models:
            path = os.path.join(tmp, model + ".mlir")
            with open(path, "w") as f:
                f.write(zoo.build(model, batch=1).to_mlir())
            rows[model] = {s: schedule(ios_opt, path, s, device)
                           for s in STRATEGIES}
    print(f"Estimated latency (ms) with the analytic profiler, device "
          f"{device}; paper = IOS's V100 measurements (docs/IOS.md, "
          '"Published measurements")',
          file=out)
    header = f"{'model':<13}" + "".join(
        f"{s:>22}" for s in ("Sequential", "Greedy", "IOS-Merge",
                             "IOS-Parallel", "IOS-Both"))
    print(header, file=out)
    for model, runs in rows.items():
        paper = PAPER.get(model)
        cells = []
        for i, s in enumerate(STRATEGIES):
            est = runs[s][0]["latency_ms"]
            ref = f"{paper[i]:.2f}" if paper else "-"
            cells.append(f"{est:>9.2f} (paper {ref:>5})")
        print(f"{model:<13}" + "".join(f"{c:>22}" for c in cells), file=out)

    print("\nIOS-Both / Sequential: estimated vs paper; Sequential error",
          file=out)
    errors = []
    for model, runs in rows.items():
        seq = runs["sequential"][0]["latency_ms"]
        both = runs["both"][0]["latency_ms"]
        paper = PAPER.get(model)
        if not paper:
            continue
        ratio, pratio = both / seq, paper[4] / paper[0]
        seq_err = seq / paper[0] - 1
        errors.append((model, seq_err, ratio / pratio - 1))
        print(f"{model:<13} ratio {ratio:.3f} vs {pratio:.3f} "
              f"({100 * (ratio / pratio - 1):+.1f}%), sequential "
              f"{100 * seq_err:+.1f}%", file=out)

    print("\nSearch (r=3, s=8, part size 50): time is the DP's own, calls "
          "are distinct stages costed", file=out)
    print(f"{'model':<13}{'strategy':<12}{'units':>6}{'stages':>8}"
          f"{'search s':>10}{'states':>9}{'transitions':>13}{'calls':>8}"
          f"{'wall s':>8}", file=out)
    for model, runs in rows.items():
        for s in STRATEGIES:
            report, wall = runs[s]
            parts = report["stats"]["parts"]
            print(f"{model:<13}{s:<12}{report['units']:>6}"
                  f"{len(report['stages']):>8}"
                  f"{sum(p['seconds'] for p in parts):>10.3f}"
                  f"{sum(p['states'] for p in parts):>9}"
                  f"{sum(p['transitions'] for p in parts):>13}"
                  f"{sum(p['cost_calls'] for p in parts):>8}"
                  f"{wall:>8.2f}", file=out)
    return rows, errors


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python3 -m ios.bench.schedules",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("--device", default="v100",
                        help="analytic profiler device: v100, a100, h100 or a JSON file "
                             "(default v100)")
    parser.add_argument("--models", nargs="+", default=list(MODELS),
                        choices=list(zoo.MODELS) if hasattr(zoo, "MODELS")
                        else None, help="zoo networks to schedule (default: the paper's four)")
    parser.add_argument("--build-dir", default=default_build_dir(),
                        help="the build folder holding bin/ios-opt (default: build/)")
    args = parser.parse_args(argv)
    run(args.models, args.device, args.build_dir)


if __name__ == "__main__":
    main()
