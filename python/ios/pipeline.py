"""The whole IOS-MLIR pipeline on one network, checked end to end.

    python3 -m ios.pipeline MODEL [--batch N] [--strategy both] [--device v100]
                            [--out DIR] [--runs N] [--sanitize thread|address]
                            [--no-sequential] [--weights W.safetensors]
                            [--emulated-cuda [--nvcc NVCC]]

MODEL is a zoo network, an ONNX file (``model.onnx``), a graph-level MLIR
file (``model.mlir --weights w.safetensors``) or ``torchvision:NAME`` (a
torchvision model with random weights and randomised batch-norm statistics,
imported with ``ios.torch``).

1. ``ios.zoo`` / ``ios.importer`` / ``ios.torch`` writes the network (MLIR),
   its weights and an input (safetensors); ``ios.reference`` evaluates it
   (for ``torchvision:`` models the torch model is evaluated too);
2. ``ios-opt --ios-schedule`` schedules it with the analytic GPU model;
3. ``ios-translate --ios-to-cpp`` prints the program; ``c++`` compiles it
   against the CPU runtime (``-DIOS_MAIN``);
4. the program runs on the CPU (same program text as the CUDA build);
5. its output is compared with the PyTorch reference (``ios.reference``), the
   torch model (``torchvision:``) and the sequential schedule's program
   (max |a - b| / max |b| <= 1e-4);
6. with ``--emulated-cuda``: ``ios-translate --ios-to-cuda`` prints the same
   schedule as a CUDA program, nvcc compiles it against the CUDA runtime
   backend and the test-only device emulator (``test/lib/DeviceEmulator``,
   no GPU needed; it reports races and cuDNN rule violations and fails the
   run), and its output is compared with PyTorch and with the CPU program
   (same tolerance); the emulator's trace gives the host API calls per
   inference (``ios.bench.emulator``).

After step 2, ``ios.timeline`` draws ``timeline.svg`` in the output folder:
the schedule below the sequential one, as the analytic model simulates them.

Graphs with ops the C++ dialect does not know yet stop at step 2 with
ios-opt's error.

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
from ios import cli

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
        self.kind, self.name = model_kind(args.model)
        self.stem = f"{self.name}-b{args.batch}" if self.kind != "mlir" else self.name
        self.mlir = self.file(".mlir")
        self.weights = self.file(".weights.safetensors")
        self.torch_output = None

    def file(self, suffix):
        return os.path.join(self.out, f"{self.stem}{suffix}")

    def python(self, *argv):
        return _run([sys.executable, "-m", *argv], env=self.env)

    def generate(self):
        a = self.args
        if self.kind == "zoo":
            self.python("ios.zoo", a.model, "--batch", str(a.batch), "--weights",
                        self.weights, "--seed", str(a.seed), "-o", self.mlir)
        elif self.kind == "onnx":
            _, t = self.python("ios.importer", a.model, "--batch", str(a.batch), "-o",
                               self.mlir, "--weights", self.weights)
            print(f"import: {a.model} in {t:.2f} s")
        elif self.kind == "mlir":
            self.mlir, self.weights = os.path.abspath(a.model), os.path.abspath(a.weights)
        else:
            self.export_torchvision()
        ref = ["ios.reference", self.mlir, "--weights", self.weights]
        if self.kind == "zoo":
            ref = ["ios.reference", a.model, "--batch", str(a.batch), "--weights", self.weights]
        if self.kind == "torchvision":
            ref += ["--input", self.file(".input.safetensors")]
        else:
            ref += ["--seed", str(a.seed), "--save-input", self.file(".input.safetensors")]
        _, t = self.python(*ref, "--output", self.file(".reference.safetensors"))
        print(f"model: {a.model}, batch {a.batch}: {self.mlir} "
              f"(PyTorch reference {t:.2f} s)")

    def export_torchvision(self):
        """The torchvision model with random weights and batch-norm statistics,
        imported with ios.torch; its own output is the extra reference."""
        import torch
        import ios.torch
        from ios.importer.models import torchvision_model
        model, x = torchvision_model(self.name, self.args.batch, self.args.seed)
        start = time.perf_counter()
        ios.torch.export(model, x, self.mlir)
        print(f"import: torchvision {self.name} with ios.torch in "
              f"{time.perf_counter() - start:.2f} s")
        os.replace(self.file(".safetensors"), self.weights)
        safetensors.save(self.file(".input.safetensors"), {"input": x.numpy()})
        with torch.no_grad():
            self.torch_output = model(x).numpy()

    def schedule(self, strategy):
        report = self.file(f".{strategy}.report.json")
        scheduled = self.file(f".{strategy}.mlir")
        options = (f"strategy={strategy} profiler=analytic "
                   f"device={self.args.device} report={report}")
        _run([self.ios_opt, self.mlir, "--mlir-print-debuginfo",
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

    def compile_cuda(self, scheduled, strategy):
        """The CUDA program, built against the device emulator."""
        source = self.file(f".{strategy}.cu")
        _run([self.ios_translate, "--ios-to-cuda", scheduled, "-o", source])
        binary = self.file(f".{strategy}.cuda.bin")
        _, t = _run([self.args.nvcc, "-std=c++17", "-O2", "-DIOS_MAIN",
                     "-cudart", "none", source,
                     "-I", os.path.join(self.root, "include"),
                     "-L", os.path.join(self.build, "lib"),
                     "-lIOSRuntimeDriver", "-lIOSRuntimeCUDA",
                     "-lIOSDeviceEmulator", "-lcudnn", "-o", binary])
        with open(source) as f:
            lines = f.read().count("\n")
        return source, binary, t, lines

    def execute(self, binary, strategy, env=None):
        output = self.file(f".{strategy}.output.safetensors")
        proc, t = _run([binary, self.weights,
                        "--input", self.file(".input.safetensors"),
                        "--output", output, "--runs", str(self.args.runs),
                        "--warmup", "1"], env=env)
        tensors, _ = safetensors.load(output)
        # The program prints its latencies, then its outputs: one line here.
        return tensors["output"], "; ".join(proc.stdout.strip().splitlines())

    def emulated_cuda(self, scheduled, strategy, cpu_output, reference):
        """Step 6; returns whether both checks pass."""
        from ios.bench import emulator
        source, binary, ct, lines = self.compile_cuda(scheduled, strategy)
        print(f"cuda program {strategy}: {source} ({lines} lines), compiled "
              f"with nvcc in {ct:.2f} s")
        trace = self.file(f".{strategy}.cuda.trace")
        start = time.perf_counter()
        output, run_line = self.execute(
            binary, f"{strategy}.cuda",
            env=dict(self.env, IOS_EMU_TRACE=trace))
        wall = time.perf_counter() - start
        row, _ = emulator.summarize(trace)
        calls = ", ".join(f"{k} {row.get(k, 0)}" for k in emulator.KINDS)
        print(f"emulated cuda run {strategy}: {run_line}; {wall:.2f} s on "
              f"the emulator; {row.get('calls', 0)} host API calls per "
              f"inference ({calls})")
        ok = True
        for name, expected in (("PyTorch", reference),
                               ("cpu program", cpu_output)):
            err = relative_error(output, expected)
            ok &= err <= TOLERANCE
            print(f"check emulated cuda {strategy} vs {name}: max relative "
                  f"error {err:.3g} (tolerance {TOLERANCE:g}): "
                  f"{'PASS' if err <= TOLERANCE else 'FAIL'}")
        return ok

    def draw_timeline(self, scheduled_files):
        """timeline.svg: the schedule (and the sequential one above it);
        ``scheduled_files`` maps strategies to scheduled .mlir files."""
        from ios import timeline
        argv = [scheduled_files[self.args.strategy], "-o",
                os.path.join(self.out, "timeline.svg"), "--build-dir", self.build]
        if "sequential" in scheduled_files and self.args.strategy != "sequential":
            argv += ["--sequential", scheduled_files["sequential"]]
        if timeline.main(argv) != 0:
            raise SystemExit("error: ios.timeline failed")

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
        # Every schedule first: the timeline is drawn before anything compiles.
        schedules = {s: self.schedule(s) for s in strategies}
        self.draw_timeline({s: files for s, (files, _) in schedules.items()})
        for strategy in strategies:
            scheduled, report = schedules[strategy]
            parts = report["stats"]["parts"]
            print(f"schedule {strategy}: {len(report['stages'])} stages, estimated "
                  f"{report['latency_ms']:.3f} ms on {a.device} vs sequential "
                  f"{report['sequential_ms']:.3f} ms "
                  f"({report['sequential_ms'] / report['latency_ms']:.2f}x); "
                  f"search {sum(p['seconds'] for p in parts):.3f} s, "
                  f"{sum(p['states'] for p in parts)} states, "
                  f"{sum(p['transitions'] for p in parts)} transitions")
            source, binary, ct, lines = self.compile(scheduled, strategy)
            with open(source) as f:
                summary = next((l.strip() for l in f
                                if l.startswith("// ") and " stage(s), " in l),
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
            if self.torch_output is not None:
                err = relative_error(output, self.torch_output)
                ok &= err <= TOLERANCE
                print(f"check {strategy} vs the torch model: max relative error {err:.3g}: "
                      f"{'PASS' if err <= TOLERANCE else 'FAIL'}")
            if a.emulated_cuda and strategy == a.strategy:
                ok &= self.emulated_cuda(scheduled, strategy, output,
                                         reference)
        if len(results) == 2:
            err = relative_error(results[a.strategy], results["sequential"])
            status = "PASS" if err <= TOLERANCE else "FAIL"
            ok &= err <= TOLERANCE
            print(f"check {a.strategy} vs sequential program: max relative "
                  f"error {err:.3g}: {status}")
        return 0 if ok else 1


def model_kind(model):
    """``(kind, name)`` of a MODEL argument: zoo, onnx, mlir or torchvision."""
    from ios import zoo
    if model.startswith("torchvision:"):
        return "torchvision", model.split(":", 1)[1]
    for ext in (".onnx", ".mlir"):
        if model.endswith(ext):
            return ext[1:], os.path.basename(model)[:-len(ext)]
    if model in zoo.MODELS:
        return "zoo", model
    return None, model


def main(argv=None):
    from ios import zoo
    p = argparse.ArgumentParser(prog=cli.prog("ios.pipeline"),
                                description=__doc__.split("\n")[0])
    p.add_argument("model", metavar="MODEL",
                   help="a zoo network (" + ", ".join(zoo.MODELS) + "), an ONNX file "
                        "(.onnx), a graph-level MLIR file (.mlir, with --weights) or "
                        "torchvision:NAME (e.g. torchvision:resnet18)")
    p.add_argument("--weights", metavar="FILE",
                   help="safetensors weights of a .mlir MODEL")
    p.add_argument("--batch", type=positive_int, default=1,
                   help="batch size (default 1; a .mlir MODEL has its own)")
    p.add_argument("--strategy", default="both",
                   choices=["both", "concurrent", "merge", "greedy", "sequential"],
                   help="scheduling strategy of ios-opt --ios-schedule (default both)")
    p.add_argument("--device", default="v100",
                   help="device of the analytic profiler (default v100)")
    p.add_argument("--seed", type=int, default=0,
                   help="seed of generated weights and inputs (default 0)")
    p.add_argument("--runs", type=int, default=3, help="timed runs of the program (default 3)")
    p.add_argument("--out", default="out", help="folder for every file made (default out)")
    p.add_argument("--build-dir", help="the CMake build folder (default build/ or "
                                       "$IOS_BUILD_DIR)")
    p.add_argument("--sanitize", choices=["thread", "address"],
                   help="compile the program and runtime with a sanitizer")
    p.add_argument("--no-sequential", action="store_true",
                   help="skip the sequential program comparison")
    p.add_argument("--emulated-cuda", action="store_true",
                   help="also run the CUDA program on the device emulator")
    p.add_argument("--nvcc", default=os.environ.get("IOS_NVCC") or
                   shutil.which("nvcc") or "/usr/local/cuda/bin/nvcc")
    args = p.parse_args(argv)
    kind, _ = model_kind(args.model)
    if kind is None:
        p.error(f"argument MODEL: {args.model!r} is not a zoo network, an .onnx or .mlir file "
                f"or torchvision:NAME")
    if kind in ("onnx", "mlir") and not os.path.exists(args.model):
        p.error(f"argument MODEL: no file {args.model}")
    if (kind == "mlir") != (args.weights is not None):
        p.error("--weights is required with a .mlir MODEL and only applies to it")
    if shutil.which(os.environ.get("CXX", "c++")) is None:
        p.error("no C++ compiler found (set CXX)")
    return Pipeline(args).run()


if __name__ == "__main__":
    sys.exit(main())
