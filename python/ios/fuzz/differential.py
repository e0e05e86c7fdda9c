"""Differential test of the whole pipeline on random graphs.

    python3 -m ios.fuzz.differential [--graphs N] [--seed S] [--batch-size K]
                                     [--max-ops M] [--out DIR] [--build-dir B]
                                     [--emit-only] [--keep]

For each random graph of :mod:`ios.fuzz.graphs` (graph ``i`` of seed ``S``
is ``random_graph(S * 2**20 + i)``):

1. PyTorch evaluates it (:mod:`ios.reference`) on seeded weights and input;
2. ``ios-opt --ios-schedule`` schedules it twice, IOS-Both and sequential
   (analytic V100 model);
3. ``ios-opt --ios-lower-to-cpp`` and ``ios-translate --ios-to-cpp`` emit the
   programs, ``--ios-to-cpp-header`` their C headers;
4. a generated C++ driver calls every program's entry points (create from the
   weights file, run, write the outputs); it is compiled with ``c++``
   against the CPU runtime and run;
5. each output of both programs is compared with PyTorch, and the two
   programs with each other (max |a - b| / max |b| <= 1e-4).

Graphs go in batches of ``--batch-size``: one module per strategy, one
compilation, one process per batch (compiling dominates). A graph the
compiler rejects is scheduled alone to name it, and counts as a failure like
a mismatch. Prints a line per batch and a summary table; exits non-zero on
any failure. ``--emit-only`` stops after step 3 (no C++ compiler or runtime
needed).
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import time

import numpy as np

from ios import cli, reference, safetensors
from ios.fuzz.graphs import random_graph
from ios.pipeline import CPU_RUNTIME_LIBS, TOLERANCE, _paths, relative_error

STRATEGIES = (("both", "both"), ("seq", "sequential"))


def graph_seed(seed, index):
    return (int(seed) << 20) + int(index)


class Failure(Exception):
    pass


def _run(cmd, **kw):
    proc = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if proc.returncode != 0:
        raise Failure(f"{os.path.basename(cmd[0])} failed (exit {proc.returncode}): "
                      + (proc.stderr or proc.stdout).strip()[:2000])
    return proc


def _driver_source(entries):
    """C++ that runs every program of the batch. ``entries``: (function,
    graph index, input element counts, output element counts)."""
    lines = ['#include <cstdint>', '#include <cstdio>', '#include <string>',
             '#include <vector>', '']
    for fn, _, _, _ in entries:
        lines.append(f'extern "C" void *ios_{fn}_create(const char *);')
        lines.append(f'extern "C" int32_t ios_{fn}_run(void *, const float *const *, '
                     'float *const *);')
        lines.append(f'extern "C" void ios_{fn}_destroy(void *);')
        lines.append(f'extern "C" const char *ios_{fn}_error(void *);')
    lines += ['', 'namespace {', 'struct Program {', '  const char *name;', '  int graph;',
              '  void *(*create)(const char *);',
              '  int32_t (*run)(void *, const float *const *, float *const *);',
              '  void (*destroy)(void *);', '  const char *(*error)(void *);',
              '  std::vector<size_t> ins, outs;', '};', '',
              'bool io(const std::string &path, float *data, size_t n, bool write) {',
              '  FILE *f = std::fopen(path.c_str(), write ? "wb" : "rb");',
              '  if (!f)', '    return false;',
              '  size_t done = write ? std::fwrite(data, sizeof(float), n, f)',
              '                      : std::fread(data, sizeof(float), n, f);',
              '  return std::fclose(f) == 0 && done == n;', '}', '} // namespace', '',
              'int main(int argc, char **argv) {', '  if (argc != 2)', '    return 2;',
              '  std::string dir = argv[1];', '  Program programs[] = {']
    for fn, g, ins, outs in entries:
        lines.append(f'      {{"{fn}", {g}, ios_{fn}_create, ios_{fn}_run, ios_{fn}_destroy, '
                     f'ios_{fn}_error, {{{", ".join(map(str, ins))}}}, '
                     f'{{{", ".join(map(str, outs))}}}}},')
    lines += [
        '  };', '  int failures = 0;', '  for (Program &p : programs) {',
        '    std::string g = dir + "/g" + std::to_string(p.graph);',
        '    void *model = p.create((g + ".safetensors").c_str());', '    if (!model) {',
        '      std::printf("error %s: create: %s\\n", p.name, p.error(nullptr));',
        '      ++failures;', '      continue;', '    }',
        '    std::vector<std::vector<float>> in, out;',
        '    std::vector<const float *> inPtr;', '    std::vector<float *> outPtr;',
        '    bool ok = true;', '    for (size_t i = 0; i < p.ins.size(); ++i) {',
        '      in.emplace_back(p.ins[i]);',
        '      ok &= io(g + ".in" + std::to_string(i), in.back().data(), p.ins[i], false);',
        '    }', '    for (size_t i = 0; i < p.outs.size(); ++i)',
        '      out.emplace_back(p.outs[i]);', '    for (auto &v : in)',
        '      inPtr.push_back(v.data());', '    for (auto &v : out)',
        '      outPtr.push_back(v.data());',
        '    if (!ok || !p.run(model, inPtr.data(), outPtr.data())) {',
        '      std::printf("error %s: run: %s\\n", p.name, ok ? p.error(model) : "input");',
        '      ++failures;', '    } else {',
        '      for (size_t i = 0; i < out.size(); ++i)',
        '        ok &= io(dir + "/" + p.name + ".out" + std::to_string(i), out[i].data(),',
        '                 out[i].size(), true);',
        '      std::printf("%s %s\\n", ok ? "ran" : "error writing", p.name);',
        '      failures += !ok;', '    }', '    p.destroy(model);', '  }',
        '  return failures ? 1 : 0;', '}', '']
    return "\n".join(lines)


class Differential:
    def __init__(self, args):
        self.args = args
        self.root, self.build = _paths(args.build_dir)
        self.ios_opt = os.path.join(self.build, "bin", "ios-opt")
        self.ios_translate = os.path.join(self.build, "bin", "ios-translate")
        self.out = os.path.abspath(args.out)
        self.times = dict.fromkeys(("generate", "schedule", "emit", "compile", "run",
                                    "compare"), 0.0)
        self.failures = []  # (what failed: a graph or a batch, why)
        self.ops = 0
        self.stages = {"both": 0, "seq": 0}
        self.merge_stages = 0
        self.checked = 0
        self.max_error = {"both vs PyTorch": 0.0, "sequential vs PyTorch": 0.0,
                          "both vs sequential": 0.0}

    def label(self, i):
        return f"graph {i} (python3 -m ios.fuzz.graphs {graph_seed(self.args.seed, i)})"

    def clock(self, phase, start):
        self.times[phase] += time.perf_counter() - start

    def schedule(self, graphs, tag, strategy, workdir):
        """Schedules the batch (one module); returns the scheduled file and the
        report, after naming and dropping graphs the compiler rejects."""
        def text(gs):
            parts = []
            for i, g in gs:
                name = g.name
                g.name = f"g{i}_{tag}"
                parts.append(g.to_mlir())
                g.name = name
            return "\n".join(parts)

        src = os.path.join(workdir, f"{tag}.mlir")
        scheduled = os.path.join(workdir, f"{tag}.scheduled.mlir")
        report = os.path.join(workdir, f"{tag}.report.json")
        cmd = [self.ios_opt, src, f"--ios-schedule=strategy={strategy} profiler=analytic "
               f"report={report}", "-o", scheduled]
        with open(src, "w") as f:
            f.write(text(graphs))
        try:
            _run(cmd)
        except Failure:
            # Name the graphs the compiler rejects, go on without them.
            for i, g in list(graphs):
                with open(src, "w") as f:
                    f.write(text([(i, g)]))
                try:
                    _run(cmd)
                except Failure as e:
                    self.failures.append((self.label(i), f"schedule {strategy}: {e}"))
                    graphs.remove((i, g))
            if not graphs:
                return None, None
            with open(src, "w") as f:
                f.write(text(graphs))
            _run(cmd)
        with open(report) as f:
            return scheduled, json.load(f)["functions"]

    def emit(self, scheduled, tag, workdir):
        lowered = os.path.join(workdir, f"{tag}.lowered.mlir")
        source = os.path.join(workdir, f"{tag}.cpp")
        _run([self.ios_opt, scheduled, "--ios-lower-to-cpp=emit-main=false", "-o", lowered])
        _run([self.ios_translate, "--ios-to-cpp", lowered, "-o", source])
        _run([self.ios_translate, "--ios-to-cpp-header", scheduled, "-o",
              os.path.join(workdir, f"{tag}.h")])
        return source

    def compile(self, sources, workdir):
        cxx = os.environ.get("CXX", "c++")
        objects, procs = [], []
        for src in sources:
            obj = src + ".o"
            objects.append(obj)
            procs.append((src, subprocess.Popen(
                [cxx, "-std=c++17", "-O1", "-c", src, "-I", os.path.join(self.root, "include"),
                 "-o", obj], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)))
        for src, p in procs:
            out, _ = p.communicate()
            if p.returncode != 0:
                raise Failure(f"{cxx} {os.path.basename(src)} failed: {out.strip()[:3000]}")
        binary = os.path.join(workdir, "driver")
        _run([cxx, *objects, "-L", os.path.join(self.build, "lib"), "-lIOSRuntimeDriver",
              "-lIOSRuntimeCPU", *CPU_RUNTIME_LIBS, "-o", binary])
        return binary

    def batch(self, first, count):
        a = self.args
        workdir = os.path.join(self.out, f"batch{first}")
        os.makedirs(workdir, exist_ok=True)
        start = time.perf_counter()
        graphs, expected = [], {}
        for i in range(first, first + count):
            s = graph_seed(a.seed, i)
            g = random_graph(s, name=f"g{i}", max_ops=a.max_ops)
            params = g.random_params(s)
            x = reference.random_input(g, s)
            xs = x if isinstance(x, list) else [x]
            expected[i] = [y.numpy() for y in reference.run(g, params, x)]
            safetensors.save(os.path.join(workdir, f"g{i}.safetensors"), params)
            for k, xi in enumerate(xs):
                np.asarray(xi, dtype=np.float32).tofile(os.path.join(workdir, f"g{i}.in{k}"))
            self.ops += len(g.ops)
            graphs.append((i, g))
        self.clock("generate", start)

        start = time.perf_counter()
        while True:  # again if the second strategy dropped a graph
            count = len(graphs)
            scheduled, reports = {}, {}
            for tag, strategy in STRATEGIES:
                scheduled[tag], reports[tag] = self.schedule(graphs, tag, strategy, workdir)
                if scheduled[tag] is None:
                    self.clock("schedule", start)
                    return
            if len(graphs) == count:
                break
        for tag, report in reports.items():
            for fn in report.values():
                self.stages[tag] += len(fn["stages"])
                if tag == "both":
                    self.merge_stages += sum(1 for st in fn["stages"]
                                             if st["strategy"] == "merge")
        self.clock("schedule", start)
        # A graph dropped by the second strategy is dropped from the first too.
        start = time.perf_counter()
        sources = [self.emit(scheduled[tag], tag, workdir) for tag, _ in STRATEGIES]
        self.clock("emit", start)
        if a.emit_only:
            return

        entries = []
        for i, g in graphs:
            ins = [arg.numel for arg in g.inputs]
            outs = [int(np.prod(v.shape)) for v in g.outputs]
            for tag, _ in STRATEGIES:
                entries.append((f"g{i}_{tag}", i, ins, outs))
        driver = os.path.join(workdir, "driver.cpp")
        with open(driver, "w") as f:
            f.write(_driver_source(entries))
        start = time.perf_counter()
        binary = self.compile(sources + [driver], workdir)
        self.clock("compile", start)

        start = time.perf_counter()
        proc = subprocess.run([binary, workdir], capture_output=True, text=True)
        self.clock("run", start)
        errors = [l for l in proc.stdout.splitlines() if l.startswith("error")]
        if proc.returncode < 0 or (proc.returncode != 0 and not errors):
            raise Failure(f"the driver of batch {first} died (exit {proc.returncode}): "
                          f"{proc.stderr.strip()[:2000]}")

        start = time.perf_counter()
        for i, g in graphs:
            bad = [l for l in errors if l.split()[1].rstrip(":") in
                   (f"g{i}_both", f"g{i}_seq")]
            if bad:
                self.failures.append((self.label(i), "; ".join(bad)))
                continue
            got = {}
            for tag, _ in STRATEGIES:
                got[tag] = [np.fromfile(os.path.join(workdir, f"g{i}_{tag}.out{k}"),
                                        dtype=np.float32).reshape(v.shape)
                            for k, v in enumerate(g.outputs)]
            for k, ref in enumerate(expected[i]):
                for what, a_, b_ in (("both vs PyTorch", got["both"][k], ref),
                                     ("sequential vs PyTorch", got["seq"][k], ref),
                                     ("both vs sequential", got["both"][k], got["seq"][k])):
                    err = relative_error(a_, b_)
                    self.max_error[what] = max(self.max_error[what], err)
                    if not err <= TOLERANCE:
                        self.failures.append((self.label(i), f"output {k}: {what}: max "
                                                             f"relative error {err:.3g}"))
            self.checked += 1
        self.clock("compare", start)
        if not self.args.keep:
            shutil.rmtree(workdir, ignore_errors=True)

    def run(self):
        a = self.args
        os.makedirs(self.out, exist_ok=True)
        start = time.perf_counter()
        for first in range(0, a.graphs, a.batch_size):
            count = min(a.batch_size, a.graphs - first)
            before = len(self.failures)
            try:
                self.batch(first, count)
            except Failure as e:
                self.failures.append((f"batch {first}..{first + count - 1}", str(e)))
            print(f"batch {first}..{first + count - 1}: "
                  f"{len(self.failures) - before} failures "
                  f"({time.perf_counter() - start:.1f} s)", flush=True)
        total = time.perf_counter() - start
        rows = [("graphs", a.graphs), ("ops", self.ops),
                ("stages (both / sequential)", f"{self.stages['both']} / {self.stages['seq']}"),
                ("merge stages (both)", self.merge_stages),
                ("graphs compared", "not run (--emit-only)" if a.emit_only else self.checked),
                ("failures", len(self.failures))]
        if not a.emit_only:
            rows += [(f"max error {k}", f"{v:.3g}") for k, v in self.max_error.items()]
        rows += [(f"seconds {k}", f"{v:.1f}") for k, v in self.times.items()]
        rows += [("seconds", f"{total:.1f}"), ("graphs/s", f"{a.graphs / total:.2f}")]
        print(f"ios.fuzz.differential: seed {a.seed}, tolerance {TOLERANCE:g}")
        for k, v in rows:
            print(f"  {k:<34} {v}")
        for label, what in self.failures:
            print(f"FAIL {label}: {what}")
        return 1 if self.failures else 0


def main(argv=None):
    p = argparse.ArgumentParser(prog=cli.prog("ios.fuzz.differential"),
                                description=__doc__.split("\n")[0])
    p.add_argument("--graphs", type=reference.positive_int, default=20,
                   help="random graphs to test (default 20)")
    p.add_argument("--seed", type=int, default=1, help="seed of the graphs (default 1)")
    p.add_argument("--batch-size", type=reference.positive_int, default=25,
                   help="graphs per compilation (default 25)")
    p.add_argument("--max-ops", type=int, default=24,
                   help="about this many ops per graph at most (default 24)")
    p.add_argument("--out", default="out/differential",
                   help="working folder (default out/differential)")
    p.add_argument("--build-dir", help="the CMake build folder (default build/ or "
                                       "$IOS_BUILD_DIR)")
    p.add_argument("--emit-only", action="store_true",
                   help="stop after emitting the programs (no compiler or runtime needed)")
    p.add_argument("--keep", action="store_true", help="keep every batch's files")
    args = p.parse_args(argv)
    if args.max_ops < 2:
        p.error("--max-ops must be at least 2")
    if args.seed < 0 or args.seed >= 1 << 40:
        p.error("--seed must be in [0, 2**40)")
    if not args.emit_only and shutil.which(os.environ.get("CXX", "c++")) is None:
        p.error("no C++ compiler found (set CXX)")
    return Differential(args).run()


if __name__ == "__main__":
    sys.exit(main())
