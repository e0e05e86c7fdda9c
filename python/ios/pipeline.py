"""The whole IOS-MLIR pipeline on one zoo network, checked end to end.

    python3 -m ios.pipeline MODEL [--batch N] [--strategy both] [--device v100]
                            [--out DIR] [--runs N] [--sanitize thread|address]
                            [--no-sequential]

1. ``ios.zoo`` writes the network (MLIR), its weights and an input
   (safetensors);
2. ``ios-opt --ios-schedule`` schedules it with the analytic GPU model;
3. ``ios-translate --ios-to-cpp`` prints the program; ``c++`` compiles it
   against the CPU runtime (``-DIOS_MAIN``);
4. the program runs on the CPU (same program text as the CUDA build);
5. its output is compared with the PyTorch reference (``ios.reference``) and
   with the sequential schedule's program (max |a - b| / max |b| <= 1e-4).

Prints one line per step with the numbers (estimated GPU latency vs
sequential, search statistics, arena size, code size, compile and run
times, errors) and exits non-zero if a check fails.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import time

import numpy as np

from ios import safetensors
from ios.reference import positive_int

TOLERANCE = 1e-4
# What the CPU runtime archive needs after it: oneDNN (on OpenMP) and threads.
CPU_RUNTIME_LIBS = ["-ldnnl", "-lgomp", "-lpthread"]


def _paths(build_dir):
    root = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
    build = os.path.abspath(build_dir or os.environ.get("IOS_BUILD_DIR")
                            or os.path.join(root, "build"))
    return root, build


def _run(cmd, **kw):
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout + proc.stderr)
        raise SystemExit(f"error: {' '.join(cmd[:2])}... failed "
                         f"(exit {proc.returncode})")
    return proc, time.perf_counter() - start


def relative_error(a, b):
    a = np.asarray(a, dtype=np.float64).ravel()
    b = np.asarray(b, dtype=np.float64).ravel()
    if a.shape != b.shape:
        return float("inf")
    scale = max(float(np.max(np.abs(b))), 1e-30)
    return float(np.max(np.abs(a - b))) / scale


class Pipeline:
    def __init__(self, args):
        self.args = args
        self.root, self.build = _paths(args.build_dir)
        self.out = os.path.abspath(args.out)
        os.makedirs(self.out, exist_ok=True)
        self.env = dict(os.environ)
        self.env["PYTHONPATH"] = os.path.join(self.root, "python")
        self.ios_opt = os.path.join(self.build, "bin", "ios-opt")
        self.ios_translate = os.path.join(self.build, "bin", "ios-translate")
        self.stem = f"{args.model}-b{args.batch}"

    def file(self, suffix):
        return os.path.join(self.out, f"{self.stem}{suffix}")

    def python(self, *argv):
        return _run([sys.executable, "-m", *argv], env=self.env)

    def generate(self):
        a = self.args
        self.python("ios.zoo", a.model, "--batch", str(a.batch),
                    "--weights", self.file(".weights.safetensors"),
                    "--seed", str(a.seed), "-o", self.file(".mlir"))
        _, t = self.python("ios.reference", a.model, "--batch", str(a.batch),
                           "--weights", self.file(".weights.safetensors"),
                           "--seed", str(a.seed),
                           "--save-input", self.file(".input.safetensors"),
                           "--output", self.file(".reference.safetensors"))
        print(f"model: {a.model}, batch {a.batch}: {self.file('.mlir')} "
              f"(PyTorch reference {t:.2f} s)")

    def schedule(self, strategy):
        report = self.file(f".{strategy}.report.json")
        scheduled = self.file(f".{strategy}.mlir")
        options = (f"strategy={strategy} profiler=analytic "
                   f"device={self.args.device} report={report}")
        _run([self.ios_opt, self.file(".mlir"), "--mlir-print-debuginfo",
              f"--ios-schedule={options}", "-o", scheduled])
        with open(report) as f:
            (function,) = json.load(f)["functions"].values()
        return scheduled, function

    def compile(self, scheduled, strategy):
        source = self.file(f".{strategy}.cpp")
        _run([self.ios_translate, "--ios-to-cpp", scheduled, "-o", source])
        binary = self.file(f".{strategy}.bin")
        flags = ["-O2", "-g"] if not self.args.sanitize else \
            ["-O1", "-g", f"-fsanitize={self.args.sanitize}"]
        cxx = os.environ.get("CXX", "c++")
        suffix = "-" + self.args.sanitize if self.args.sanitize else ""
        _, t = _run([cxx, "-std=c++17", *flags, "-DIOS_MAIN", source,
                     "-I", os.path.join(self.root, "include"),
                     "-L", os.path.join(self.build, "lib"),
                     "-lIOSRuntimeDriver" + suffix,
                     "-lIOSRuntimeCPU" + suffix,
                     *CPU_RUNTIME_LIBS, "-o", binary])
        with open(source) as f:
            lines = f.read().count("\n")
        return source, binary, t, lines

    def execute(self, binary, strategy):
        output = self.file(f".{strategy}.output.safetensors")
        proc, t = _run([binary, self.file(".weights.safetensors"),
                        "--input", self.file(".input.safetensors"),
                        "--output", output, "--runs", str(self.args.runs),
                        "--warmup", "1"])
        tensors, _ = safetensors.load(output)
        return tensors["output"], proc.stdout.strip()

    def run(self):
        a = self.args
        self.generate()
        reference, _ = safetensors.load(self.file(".reference.safetensors"))
        reference = reference["output"]
        results = {}
        strategies = [a.strategy] + ([] if a.no_sequential or
                                     a.strategy == "sequential"
                                     else ["sequential"])
        ok = True
        for strategy in strategies:
            scheduled, report = self.schedule(strategy)
            parts = report["stats"]["parts"]
            print(f"schedule {strategy}: {report['stages']} stages, estimated "
                  f"{report['latency_ms']:.3f} ms on {a.device} vs sequential "
                  f"{report['sequential_ms']:.3f} ms "
                  f"({report['sequential_ms'] / report['latency_ms']:.2f}x); "
                  f"search {sum(p['seconds'] for p in parts):.3f} s, "
                  f"{sum(p['states'] for p in parts)} states, "
                  f"{sum(p['transitions'] for p in parts)} transitions")
            source, binary, ct, lines = self.compile(scheduled, strategy)
            with open(source) as f:
                summary = next((l.strip() for l in f if l.startswith("// @")),
                               "")
            print(f"program {strategy}: {source} ({lines} lines, "
                  f"{os.path.getsize(source) / 1024:.1f} KiB), compiled in "
                  f"{ct:.2f} s; {summary.lstrip('/ ')}")
            output, run_line = self.execute(binary, strategy)
            print(f"cpu run {strategy}: {run_line}")
            results[strategy] = output
            err = relative_error(output, reference)
            status = "PASS" if err <= TOLERANCE else "FAIL"
            ok &= err <= TOLERANCE
            print(f"check {strategy} vs PyTorch: max relative error "
                  f"{err:.3g} (tolerance {TOLERANCE:g}): {status}")
        if len(results) == 2:
            err = relative_error(results[a.strategy], results["sequential"])
            status = "PASS" if err <= TOLERANCE else "FAIL"
            ok &= err <= TOLERANCE
            print(f"check {a.strategy} vs sequential program: max relative "
                  f"error {err:.3g}: {status}")
        return 0 if ok else 1


def main(argv=None):
    from ios import zoo
    p = argparse.ArgumentParser(prog="python3 -m ios.pipeline",
                                description=__doc__.split("\n")[0])
    p.add_argument("model", choices=list(zoo.MODELS), metavar="MODEL",
                   help="one of: " + ", ".join(zoo.MODELS))
    p.add_argument("--batch", type=positive_int, default=1)
    p.add_argument("--strategy", default="both",
                   choices=["both", "concurrent", "merge", "greedy",
                            "sequential"])
    p.add_argument("--device", default="v100")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--out", default="out")
    p.add_argument("--build-dir")
    p.add_argument("--sanitize", choices=["thread", "address"],
                   help="compile the program and runtime with a sanitizer")
    p.add_argument("--no-sequential", action="store_true",
                   help="skip the sequential program comparison")
    args = p.parse_args(argv)
    if shutil.which(os.environ.get("CXX", "c++")) is None:
        p.error("no C++ compiler found (set CXX)")
    return Pipeline(args).run()


if __name__ == "__main__":
    sys.exit(main())
