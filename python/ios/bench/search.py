"""The scheduler's search on the zoo, with and without ios.part hints, next to IOS.

For each network and strategy (batch 1, r=3, s=8, max-part-size=50 as in
IOS's experiments), scheduled as the zoo writes it (IOS's parts as ios.part
hints) and with the hints stripped (parts found automatically): the parts,
DP states and transitions (IOS's counts for the same parts; and the
transitions of the parts actually searched: an identical part is searched
once), the distinct stages asked of the profiler and their ratio to
the stages IOS measures, the search time (median of --repeat runs), the
optimum, and whether the unpruned search (prune=none) finds the same
optimum. On the same line, IOS's figures (docs/IOS.md, "Search space"). A
second table times IOS-Both with the analytic model, with the same stages
replayed from a database (db:), and with the example cost server (exec:).

    python3 -m ios.bench.search [--models ...] [--repeat 5] [--profilers ...]
"""

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time

from ios import zoo
from ios.bench.schedules import default_build_dir

# docs/IOS.md, "Search space": IOS-Both, r=3, s=8, part size 50 (states,
# transitions, stages measured); and the time of its search: the Python DP
# with a fixed cost, and the published optimisation cost on a V100 (mostly
# measuring stages).
IOS = {
    "sample": (12, 76, 29, None, None),
    "inception_v3": (1206, 28874, 5479, 0.4, 48),
    "squeezenet": (78, 386, 230, None, None),
    "randwire": (14734, 1843444, 212895, 94, 4407),
    "nasnet": (42966, 4695449, 240704, 90, 3653),
}
MODELS = ("inception_v3", "randwire", "nasnet", "squeezenet")
STRATEGIES = ("merge", "concurrent", "both")
PROFILERS = ("analytic", "db", "exec")


def run_ios_opt(ios_opt, mlir, options):
    """Schedules `mlir`; returns (function report, profiler calls, CPU s)."""
    with tempfile.TemporaryDirectory() as tmp:
        report = os.path.join(tmp, "report.json")
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        subprocess.run([ios_opt, mlir,
                        "--ios-schedule=" + " ".join(options +
                                                     [f"report={report}"]),
                        "-o", os.devnull], check=True)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        with open(report) as f:
            data = json.load(f)
    (function,) = data["functions"].values()
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return function, data["profiler_calls"], cpu


def base_options(strategy):
    return [f"strategy={strategy}", "max-group-size=3", "max-groups=8",
            "max-part-size=50"]


def measure(ios_opt, mlir, options, repeat):
    """Median search seconds (and CPU seconds) over `repeat` runs."""
    searches, cpus = [], []
    for _ in range(repeat):
        report, calls, cpu = run_ios_opt(ios_opt, mlir, options)
        searches.append(report["stats"]["total"]["seconds"])
        cpus.append(cpu)
    return report, calls, statistics.median(searches), statistics.median(cpus)


def search_table(ios_opt, files, models, strategies, repeat, out):
    print("Search on the zoo (analytic V100 model, batch 1, r=3, s=8, part "
          "size 50; prune=bound). states / transitions: of all parts (IOS's "
          "counts); searched: transitions of the parts searched (a repeated "
          "part reuses its twin's schedule); calls: distinct stages "
          "asked of the profiler; vs IOS: calls / stages IOS measures; search: "
          "median of the DP's own seconds over "
          f"{repeat} runs (cpu: the whole ios-opt process); =none: the "
          "unpruned search's optimum is the same (its calls in parentheses). "
          "IOS: its states, transitions, stages and search time (Python DP / "
          "V100 optimisation cost), IOS-Both only.", file=out)
    print(f"{'model':<13}{'hints':<6}{'strategy':<11}{'parts':>6}{'reused':>7}"
          f"{'states':>8}{'transitions':>12}{'searched':>10}{'calls':>8}"
          f"{'vs IOS':>8}"
          f"{'search s':>9}{'cpu s':>7}{'optimum ms':>12}  {'=none':<13}"
          f"| {'IOS states':>10}{'transitions':>12}{'stages':>8}"
          f"{'DP s':>6}{'GPU s':>7}", file=out)
    rows = []
    for model in models:
        for hints in ("yes", "no"):
            for strategy in strategies:
                opts = base_options(strategy)
                report, calls, search, cpu = measure(
                    ios_opt, files[model, hints], opts, repeat)
                none, none_calls, _ = run_ios_opt(
                    ios_opt, files[model, hints], opts + ["prune=none"])
                stats = report["stats"]
                total, searched = stats["total"], stats["searched"]
                reused = sum(p["reused_from"] >= 0 for p in stats["parts"])
                ios = IOS.get(model)
                ratio = calls / ios[2] if ios and strategy == "both" else None
                same = report["latency_ms"] == none["latency_ms"]
                rows.append(dict(model=model, hints=hints, strategy=strategy,
                                 calls=calls, ratio=ratio, search=search,
                                 cpu=cpu, same=same, latency=report["latency_ms"]))
                ios_cells = (f"{ios[0]:>10}{ios[1]:>12}{ios[2]:>8}"
                             f"{ios[3] if ios[3] is not None else '-':>6}"
                             f"{ios[4] if ios[4] is not None else '-':>7}"
                             if ios and strategy == "both" else
                             f"{'-':>10}{'-':>12}{'-':>8}{'-':>6}{'-':>7}")
                print(f"{model:<13}{hints:<6}{strategy:<11}"
                      f"{len(stats['parts']):>6}{reused:>7}"
                      f"{total['states']:>8}{total['transitions']:>12}"
                      f"{searched['transitions']:>10}{calls:>8}"
                      f"{f'{ratio:.3f}' if ratio is not None else '-':>8}"
                      f"{search:>9.3f}{cpu:>7.2f}{report['latency_ms']:>12.4f}  "
                      f"{('same' if same else 'DIFFERENT') + f' ({none_calls})':<13}"
                      f"| {ios_cells}", file=out)
    return rows


def profiler_table(ios_opt, files, models, profilers, repeat, tmp, out):
    print(f"\nIOS-Both search seconds by profiler (median of {repeat}; "
          "hinted zoo; db: replays the analytic model's stages recorded "
          "first; exec: python3 -m ios.cost_server, its own simple model)",
          file=out)
    print(f"{'model':<13}" + "".join(f"{p + ' s':>12}{'calls':>8}"
                                     for p in profilers), file=out)
    rows = {}
    for model in models:
        mlir = files[model, "yes"]
        db = os.path.join(tmp, model + ".jsonl")
        if "db" in profilers:
            run_ios_opt(ios_opt, mlir, base_options("both") +
                        [f"profiler=db:{db}", "record=analytic"])
        cells = []
        for profiler in profilers:
            spec = {"analytic": "analytic", "db": f"db:{db}",
                    "exec": f"'exec:{sys.executable} -m ios.cost_server'"}[
                        profiler]
            _, calls, search, _ = measure(
                ios_opt, mlir, base_options("both") + [f"profiler={spec}"],
                repeat)
            rows[model, profiler] = search
            cells.append(f"{search:>12.3f}{calls:>8}")
        print(f"{model:<13}" + "".join(cells), file=out)
    return rows


def run(models, strategies, profilers, repeat, build_dir, out=sys.stdout):
    ios_opt = os.path.join(build_dir, "bin", "ios-opt")
    with tempfile.TemporaryDirectory() as tmp:
        files = {}
        for model in models:
            graph = zoo.build(model, batch=1)
            files[model, "yes"] = os.path.join(tmp, model + ".mlir")
            with open(files[model, "yes"], "w") as f:
                f.write(graph.to_mlir())
            for op in graph.ops:
                op.part = None
            files[model, "no"] = os.path.join(tmp, model + ".noparts.mlir")
            with open(files[model, "no"], "w") as f:
                f.write(graph.to_mlir())
        start = time.perf_counter()
        rows = search_table(ios_opt, files, models, strategies, repeat, out)
        prof = profiler_table(ios_opt, files, models, profilers, repeat, tmp,
                              out) if profilers else {}
        load = os.getloadavg()
        print(f"\n{time.perf_counter() - start:.0f} s; load average "
              f"{load[0]:.1f} {load[1]:.1f} {load[2]:.1f} on "
              f"{os.cpu_count()} cores (search seconds are wall time: other "
              "jobs on the machine inflate them; cpu s less so)", file=out)
    return rows, prof


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python3 -m ios.bench.search",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("--models", nargs="+", default=list(MODELS),
                        choices=list(zoo.MODELS),
                        help="zoo networks (default: the paper's four)")
    parser.add_argument("--strategies", nargs="+", default=list(STRATEGIES),
                        choices=list(STRATEGIES),
                        help="searches to run (default: all three)")
    parser.add_argument("--profilers", nargs="*", default=list(PROFILERS),
                        choices=list(PROFILERS),
                        help="profilers of the IOS-Both timing table "
                             "(default: all; none to skip the table)")
    parser.add_argument("--repeat", type=int, default=5,
                        help="runs per configuration; the median is shown "
                             "(default 5)")
    parser.add_argument("--build-dir", default=default_build_dir(),
                        help="the build folder holding bin/ios-opt "
                             "(default: build/)")
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    run(args.models, args.strategies, args.profilers, args.repeat,
        args.build_dir)


if __name__ == "__main__":
    main()
