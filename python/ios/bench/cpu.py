"""The CPU backend against PyTorch, in one process, interleaved.

    python3 -m ios.bench.cpu [--models M ...] [--batches 1 8] [--runs 7]
                             [--strategy both] [--database FILE] [--out DIR]
                             [--build-dir DIR]

For every network and batch size it times, round-robin (``--runs`` rounds
after two warm-up rounds; in each round every entry is called twice in a row
and the second call is timed, so no entry pays for the cores and caches the
entry before it left: after PyTorch's 1-thread entry, the next inference of
any entry is 20-40% slower on this machine's 2 vCPUs; and each round starts
one entry later than the one before, so that no entry always follows the
same one; a PyTorch entry more
than 3x slower than the fastest PyTorch entry in the warm-up is timed in 3
rounds only, marked so):

* ``ios <strategy>``: the emitted program, scheduled with ``profiler=cpu``
  (stages measured on this backend by ios-stage-server-cpu) and at most
  ``--max-groups`` groups per stage (default: the CPUs), compiled as a
  shared object and called through ctypes;
  The search times its schedule and the sequential one as programs and
  keeps the faster (``compare=sequential``); the notes say which;
* ``ios sequential``: the sequential schedule's program;
* ``torch eager``: the graph replayed op by op with ``torch.nn.functional``
  (what ``ios.reference`` evaluates), all threads;
* ``torch jit 1t`` / ``torch jit 2t``: the same module through
  ``torch.jit.trace`` + ``torch.jit.freeze``, with 1 and 2 threads (more if
  the machine has them).

It prints min and median per entry and the ratios of the IOS programs to the
best PyTorch entry (by min). Every entry's output is checked against the
eager one (max |a - b| / max |b| <= 1e-4). Uses the machine's cores as the
runtime does (IOS_CPU_CORES overrides).

``--database FILE`` keeps the stage measurements (``profiler=db:FILE
record=cpu``): a later run replays the stages already measured and measures
only new ones, so a table can be re-printed, or the programs re-timed after a
runtime change, without measuring the networks again.
"""

import argparse
import ctypes
import json
import os
import statistics
import subprocess
import sys
import time

import numpy as np

from ios import reference, safetensors, zoo
from ios.pipeline import CPU_RUNTIME_LIBS, TOLERANCE, _paths, _run, relative_error

MODELS = ("sample", "inception_v3", "squeezenet", "randwire", "nasnet")
SLOW, SLOW_ROUNDS = 3.0, 3


def _torch():
    import torch
    return torch


def graph_module(graph, params):
    """An ``nn.Module`` whose forward replays ``graph`` with
    ``ios.reference.eval_op``; the parameters are buffers (frozen by
    ``torch.jit.freeze``)."""
    torch = _torch()

    class GraphModule(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.names = {}
            for i, a in enumerate(graph.params):
                attr = f"p{i}"
                self.register_buffer(attr, torch.as_tensor(
                    np.asarray(params[a.name], dtype=np.float32)))
                self.names[a.name] = attr

        def forward(self, x):
            tensors = {n: getattr(self, attr) for n, attr in self.names.items()}
            env = {id(graph.input_arg.value): x}
            for op in graph.ops:
                env[id(op.result)] = reference.eval_op(
                    op, [env[id(v)] for v in op.inputs], tensors)
            (out,) = graph.outputs
            return env[id(out)]

    return GraphModule().eval()


class Program:
    """An emitted program compiled as a shared object, called via ctypes."""

    def __init__(self, root, build, source, name, weights, out_elements):
        lib = source[:-len(".cpp")] + ".so"
        cxx = os.environ.get("CXX", "c++")
        _run([cxx, "-std=c++17", "-O2", "-shared", "-fPIC", source,
              "-I", os.path.join(root, "include"),
              "-L", os.path.join(build, "lib"), "-lIOSRuntimeCPU",
              *CPU_RUNTIME_LIBS, "-o", lib])
        self.dll = ctypes.CDLL(lib)
        self.create = getattr(self.dll, f"ios_{name}_create")
        self.create.restype = ctypes.c_void_p
        self.create.argtypes = [ctypes.c_char_p]
        self.run_fn = getattr(self.dll, f"ios_{name}_run")
        self.run_fn.restype = ctypes.c_int32
        self.run_fn.argtypes = [ctypes.c_void_p, ctypes.c_void_p,
                                ctypes.c_void_p]
        self.destroy = getattr(self.dll, f"ios_{name}_destroy")
        self.destroy.argtypes = [ctypes.c_void_p]
        self.handle = self.create(weights.encode())
        if not self.handle:
            raise SystemExit(f"error: {lib}: create() failed")
        self.out = np.zeros(out_elements, dtype=np.float32)

    def __call__(self, x):
        # run() takes arrays of input and output pointers (one each here).
        x = np.ascontiguousarray(x, dtype=np.float32)
        ins = (ctypes.c_void_p * 1)(x.ctypes.data)
        outs = (ctypes.c_void_p * 1)(self.out.ctypes.data)
        if not self.run_fn(self.handle, ins, outs):
            raise SystemExit("error: an inference failed")
        return self.out

    def close(self):
        self.destroy(self.handle)


def schedule(ios_opt, mlir, strategy, profiler, out_stem, max_groups):
    report = out_stem + ".report.json"
    scheduled = out_stem + ".mlir"
    _run([ios_opt, mlir, f"--ios-schedule=strategy={strategy} "
          f"profiler={profiler} max-groups={max_groups} report={report}",
          "-o", scheduled])
    with open(report) as f:
        (function,) = json.load(f)["functions"].values()
    return scheduled, function


def bench_one(args, root, build, model, batch):
    torch = _torch()
    out = os.path.abspath(args.out)
    os.makedirs(out, exist_ok=True)
    stem = os.path.join(out, f"{model}-b{batch}")
    env = dict(os.environ, PYTHONPATH=os.path.join(root, "python"))
    _run([sys.executable, "-m", "ios.zoo", model, "--batch", str(batch),
          "--weights", stem + ".weights.safetensors", "--seed", "0",
          "-o", stem + ".graph.mlir"], env=env)
    ios_opt = os.path.join(build, "bin", "ios-opt")
    translate = os.path.join(build, "bin", "ios-translate")
    graph = zoo.build(model, batch=batch)
    params, _ = safetensors.load(stem + ".weights.safetensors")
    x = reference.random_input(graph, 0)
    out_elements = int(np.prod(graph.outputs[0].shape))

    entries = {}
    notes = []
    cpu = "cpu" if args.profile_repeats is None else \
        f"cpu:--repeats={args.profile_repeats}"
    if args.database:
        cpu = f"db:{os.path.abspath(args.database)} record={cpu}"
    for strategy, profiler in ((args.strategy, cpu),
                               ("sequential", "analytic")):
        t0 = time.perf_counter()
        scheduled, report = schedule(ios_opt, stem + ".graph.mlir", strategy,
                                     profiler, f"{stem}.{strategy}",
                                     args.max_groups)
        search = time.perf_counter() - t0
        source = f"{stem}.{strategy}.cpp"
        _run([translate, "--ios-to-cpp", scheduled, "-o", source])
        prog = Program(root, build, source, model,
                       stem + ".weights.safetensors", out_elements)
        entries[f"ios {strategy}"] = prog
        if strategy != "sequential":
            notes.append(f"{strategy} schedule (profiler=cpu, {search:.0f} s): "
                         f"{len(report['stages'])} stages, estimated "
                         f"{report['latency_ms']:.2f} ms vs sequential "
                         f"{report['sequential_ms']:.2f} ms")
            timed = report.get("programs")
            if timed:
                notes.append(f"  as programs (compare=sequential): searched "
                             f"{timed['searched_ms']:.2f} ms, sequential "
                             f"{timed['sequential_ms']:.2f} ms: kept the "
                             f"{timed['kept']} schedule")

    module = graph_module(graph, params)
    xt = torch.as_tensor(x)
    cores = os.cpu_count() or 1
    threads = sorted({1, 2, cores})

    def eager(_):
        torch.set_num_threads(cores)
        with torch.no_grad():
            return module(xt).numpy().ravel()
    entries["torch eager"] = eager
    with torch.no_grad():
        frozen = torch.jit.freeze(torch.jit.trace(module, xt))
    for t in threads:
        def jit(_, t=t):
            torch.set_num_threads(t)
            with torch.no_grad():
                return frozen(xt).numpy().ravel()
        entries[f"torch jit {t}t"] = jit

    times = {k: [] for k in entries}
    want = eager(x)
    warm = {}
    for k, f in entries.items():  # warm-up and check
        for _ in range(2):
            t0 = time.perf_counter()
            got = np.array(f(x), copy=True)
            warm[k] = time.perf_counter() - t0
        err = relative_error(got, want)
        if err > TOLERANCE:
            raise SystemExit(f"error: {model} batch {batch}: {k} differs from "
                             f"eager PyTorch by {err:.3g}")
    # A PyTorch entry SLOW times slower than the fastest PyTorch entry in
    # the warm-up cannot be the reference: a few rounds time it (PyTorch on
    # one thread takes seconds per inference at batch 8).
    fastest = min(v for k, v in warm.items() if k.startswith("torch"))
    # Each round starts one entry later: an entry must not always follow the
    # same one (the IOS programs always ran right after PyTorch's, whose
    # large allocations and threads leave the machine busy for a while).
    names = list(entries)
    for r in range(args.runs):
        for k in names[r % len(names):] + names[:r % len(names)]:
            f = entries[k]
            if (r >= SLOW_ROUNDS and k.startswith("torch") and
                    warm[k] > SLOW * fastest):
                continue
            f(x)  # untimed: takes over the cores and caches
            t0 = time.perf_counter()
            f(x)
            times[k].append((time.perf_counter() - t0) * 1e3)
    for k, f in entries.items():
        if isinstance(f, Program):
            f.close()
    return times, notes


def main(argv=None):
    p = argparse.ArgumentParser(prog="python3 -m ios.bench.cpu",
                                description=__doc__.split("\n")[0])
    p.add_argument("--models", nargs="+", default=list(MODELS),
                   choices=list(zoo.MODELS))
    p.add_argument("--batches", nargs="+", type=reference.positive_int,
                   default=[1, 8])
    p.add_argument("--runs", type=reference.positive_int, default=7)
    p.add_argument("--strategy", default="both",
                   choices=["both", "concurrent", "merge", "greedy"])
    p.add_argument("--profile-repeats", type=reference.positive_int,
                   help="timed runs per stage in ios-stage-server-cpu "
                   "(default: its own, 5; fewer schedules big networks "
                   "sooner)")
    p.add_argument("--max-groups", type=reference.positive_int,
                   default=os.cpu_count() or 1,
                   help="groups per stage (default: the CPUs: a stage of "
                   "more groups than cores rarely pays, and each one more "
                   "multiplies the stages to measure)")
    p.add_argument("--database", metavar="FILE",
                   help="record the stage measurements to FILE and replay "
                   "the ones already there (profiler=db:FILE record=cpu)")
    p.add_argument("--out", default="out/bench-cpu")
    p.add_argument("--build-dir")
    p.add_argument("--wait-policy", choices=["passive", "active"],
                   help="OMP_WAIT_POLICY for PyTorch, the programs and the "
                   "stage server alike (all use libgomp; passive is steadier "
                   "on a loaded machine); default: the environment's")
    args = p.parse_args(argv)
    if args.wait_policy:  # before libgomp loads (torch, the programs)
        os.environ["OMP_WAIT_POLICY"] = args.wait_policy
    root, build = _paths(args.build_dir)
    torch = _torch()
    print(f"# {os.cpu_count()} CPUs, torch {torch.__version__}, "
          f"OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY', 'unset')}, "
          f"{args.runs} interleaved rounds; ms")
    print(f"{'model':13} {'batch':>5}  {'entry':16} {'min':>9} {'median':>9}"
          f"  {'min / best torch':>16}")
    for model in args.models:
        for batch in args.batches:
            times, notes = bench_one(args, root, build, model, batch)
            best = min(min(v) for k, v in times.items()
                       if k.startswith("torch"))
            for k, v in times.items():
                ratio = f"{min(v) / best:16.2f}" if k.startswith("ios") else ""
                few = f"  ({len(v)} rounds)" if len(v) < args.runs else ""
                print(f"{model:13} {batch:5}  {k:16} {min(v):9.2f} "
                      f"{statistics.median(v):9.2f}  {ratio}{few}")
            for n in notes:
                print(f"{'':21}{n}")
            sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
