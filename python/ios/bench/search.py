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
    """Schedules `mlir`; returns (function report, profiler calls, CPU s,
    peak resident MiB of the ios-opt process)."""
    with tempfile.TemporaryDirectory() as tmp:
        report = os.path.join(tmp, "report.json")
        args = [ios_opt, mlir,
                "--ios-schedule=" + " ".join(options + [f"report={report}"]),
                "-o", os.devnull]
        proc = subprocess.Popen(args)
        # wait4: this process's own usage (RUSAGE_CHILDREN's peak is the
        # largest of all children so far).
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode:
            raise subprocess.CalledProcessError(proc.returncode, args)
        with open(report) as f:
            data = json.load(f)
    (function,) = data["functions"].values()
    cpu = usage.ru_utime + usage.ru_stime
    return function, data["profiler_calls"], cpu, usage.ru_maxrss / 1024


def base_options(strategy):
    return [f"strategy={strategy}", "max-group-size=3", "max-groups=8",
            "max-part-size=50"]


def measure(ios_opt, mlir, options, repeat):
    """Median search seconds (and CPU seconds) over `repeat` runs."""
    searches, cpus, rss = [], [], 0
    for _ in range(repeat):
        report, calls, cpu, mib = run_ios_opt(ios_opt, mlir, options)
        # The whole search's wall time (parts searched on several threads
        # overlap; total.seconds sums their own times).
        searches.append(report["stats"]["seconds"])
        cpus.append(cpu)
        rss = max(rss, mib)
    return (report, calls, statistics.median(searches),
            statistics.median(cpus), rss)


def search_table(ios_opt, files, models, strategies, repeat, out):
    print("Search on the zoo (analytic V100 model, batch 1, r=3, s=8, part "
          "size 50; prune=bound). states / transitions: of all parts (IOS's "
          "counts); searched: transitions of the parts searched (a repeated "
          "part reuses its twin's schedule); calls: distinct stages "
          "asked of the profiler; vs IOS: calls / stages IOS measures; search: "
          "median of the DP's own seconds over "
          f"{repeat} runs (cpu: the whole ios-opt process; MiB: its largest "
          "peak resident memory); =none: the "
          "unpruned search's optimum is the same (its calls in parentheses). "
          "IOS: its states, transitions, stages and search time (Python DP / "
          "V100 optimisation cost), IOS-Both only.", file=out)
    print(f"{'model':<13}{'hints':<6}{'strategy':<11}{'parts':>6}{'reused':>7}"
          f"{'states':>8}{'transitions':>12}{'searched':>10}{'calls':>8}"
          f"{'vs IOS':>8}"
          f"{'search s':>9}{'cpu s':>7}{'MiB':>6}{'optimum ms':>12}  "
          f"{'=none':<13}"
          f"| {'IOS states':>10}{'transitions':>12}{'stages':>8}"
          f"{'DP s':>6}{'GPU s':>7}", file=out)
    rows = []
    for model in models:
        for hints in ("yes", "no"):
            for strategy in strategies:
                opts = base_options(strategy)
                report, calls, search, cpu, rss = measure(
                    ios_opt, files[model, hints], opts, repeat)
                none, none_calls, _, _ = run_ios_opt(
                    ios_opt, files[model, hints], opts + ["prune=none"])
                stats = report["stats"]
                total, searched = stats["total"], stats["searched"]
                reused = sum(p["reused_from"] >= 0 for p in stats["parts"])
                ios = IOS.get(model)
                ratio = calls / ios[2] if ios and strategy == "both" else None
                same = report["latency_ms"] == none["latency_ms"]
                rows.append(dict(model=model, hints=hints, strategy=strategy,
                                 calls=calls, ratio=ratio, search=search,
                                 cpu=cpu, rss=rss, same=same,
                                 latency=report["latency_ms"]))
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
                      f"{search:>9.3f}{cpu:>7.2f}{rss:>6.0f}"
                      f"{report['latency_ms']:>12.4f}  "
                      f"{('same' if same else 'DIFFERENT') + f' ({none_calls})':<13}"
                      f"| {ios_cells}", file=out)
    return rows


def profiler_table(ios_opt, files, models, profilers, repeat, tmp, out):
    print(f"\nIOS-Both search seconds by profiler (median of {repeat}; "
          "hinted zoo; db: replays the analytic model's stages recorded "
          "first; exec: python3 -m ios.cost_server, its own simple model, "
          "as exec-parallel:)",
          file=out)
    ratio = "db" in profilers and "exec" in profilers
    print(f"{'model':<13}" + "".join(f"{p + ' s':>12}{'calls':>8}"
                                     for p in profilers) +
          (f"{'exec/db':>9}" if ratio else ""), file=out)
    rows = {}
    for model in models:
        mlir = files[model, "yes"]
        db = os.path.join(tmp, model + ".jsonl")
        if "db" in profilers:
            run_ios_opt(ios_opt, mlir, base_options("both") +
                        [f"profiler=db:{db}", "record=analytic"])
        cells = []
        for profiler in profilers:
            # The example server is a model: its answers do not depend on
            # this machine's load, so the search goes on while it answers.
            spec = {"analytic": ["profiler=analytic"],
                    "db": [f"profiler=db:{db}"],
                    "exec": [f"profiler='exec-parallel:{sys.executable} "
                             "-m ios.cost_server'"]}[
                        profiler]
            _, calls, search, _, _ = measure(
                ios_opt, mlir, base_options("both") + spec, repeat)
            rows[model, profiler] = search
            cells.append(f"{search:>12.3f}{calls:>8}")
        if ratio:
            cells.append(f"{rows[model, 'exec'] / rows[model, 'db']:>9.1f}")
        print(f"{model:<13}" + "".join(cells), file=out)
    return rows


# The targets (docs/Scheduler.md, "Search benchmark"): profiler
# calls / IOS's measured stages, and IOS-Both search seconds, per network.
CALL_TARGETS = {"inception_v3": 1 / 4, "randwire": 1 / 10, "nasnet": 1 / 10}
SEARCH_TARGETS = {"randwire": 0.3, "nasnet": 0.15}
UNHINTED_SECONDS, UNHINTED_MIB, EXEC_OVER_DB = 10, 1024, 3


def targets(rows, prof, out):
    """Prints each target the measured rows cover, its value and whether it
    is met; returns the number not met."""
    checks = []
    both = {(r["model"], r["hints"]): r for r in rows
            if r["strategy"] == "both"}
    for model, limit in CALL_TARGETS.items():
        r = both.get((model, "yes"))
        if r:
            checks.append((f"{model}: calls / IOS <= {limit:.2f}, same "
                           "optimum as prune=none",
                           f"{r['ratio']:.3f}, "
                           f"{'same' if r['same'] else 'DIFFERENT'}",
                           r["ratio"] <= limit and r["same"]))
    for model, limit in SEARCH_TARGETS.items():
        for profiler in ("analytic", "db"):
            t = prof.get((model, profiler))
            if t is not None:
                checks.append((f"{model}: IOS-Both search with {profiler} "
                               f"<= {limit} s", f"{t:.3f} s", t <= limit))
        if (model, "exec") in prof and (model, "db") in prof:
            q = prof[model, "exec"] / prof[model, "db"]
            checks.append((f"{model}: exec within {EXEC_OVER_DB}x of db",
                           f"{q:.1f}x", q <= EXEC_OVER_DB))
    for r in rows:
        if r["hints"] == "no":
            checks.append((f"{r['model']} {r['strategy']} without hints: <= "
                           f"{UNHINTED_SECONDS} s and <= {UNHINTED_MIB} MiB, "
                           "same optimum as with hints",
                           f"{r['cpu']:.2f} s, {r['rss']:.0f} MiB, "
                           f"{r['latency']:.4f} ms",
                           r["cpu"] <= UNHINTED_SECONDS and
                           r["rss"] <= UNHINTED_MIB and
                           r["latency"] == next(
                               h["latency"] for h in rows
                               if h["hints"] == "yes" and
                               h["model"] == r["model"] and
                               h["strategy"] == r["strategy"])))
    print("\nTargets (cpu s and MiB: the whole ios-opt process)", file=out)
    for what, value, met in checks:
        print(f"{'met    ' if met else 'NOT MET'}  {what}: {value}", file=out)
    return sum(not met for _, _, met in checks)


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
        targets(rows, prof, out)
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
