"""When each stage's last group starts, launched group by group or
round-robin: CUDA programs of the zoo run on the device emulator.

    python3 -m ios.bench.launch [--models M...] [--batch B] [--stages]
                                [--build-dir DIR] [--nvcc NVCC] [--out DIR]

For each network: the zoo graph is scheduled (IOS-Both, analytic V100
model), lowered twice as `--ios-lower-to-cpp=target=cuda` does but with
`--convert-ios-to-iosrt=launch-order=...` - `grouped` (every op of group 1, then of group 2, ...:
the order of runtime API v1) and `round-robin` (op i of every group before
op i + 1 of any: today's default) - printed with `ios-translate
--ios-to-cuda`, compiled with nvcc against the CUDA runtime and the
test-only device emulator, and run with the emulator's trace on
(`ios.bench.emulator` reads it). Both programs must produce the same
output bytes.

Per network and order it prints the host API calls per inference (in
total and by kind: what the host does per inference) and, over the stages
with two groups or more, how late the last stream to get work starts: the
ops enqueued before its first op (mean / max) and the host API calls
between the stage's first launch and that one (mean / max). On a GPU each
of those calls costs the host 5-20 us before the stream can start (cuDNN
and kernel launches); the emulator counts calls, it does not time a GPU.
With --stages, the same per stage. With a CUDA graph (IOS_CUDA_GRAPH=1)
an inference replays in one launch and the order no longer matters.
"""

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile

from ios.bench import emulator

ORDERS = ("grouped", "round-robin")
MODELS = ("inception_v3", "randwire", "nasnet", "squeezenet")


def _root():
    return os.path.abspath(os.path.join(os.path.dirname(__file__), "..",
                                        "..", ".."))


def _run(cmd, env=None):
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout + proc.stderr)
        raise SystemExit(f"error: {os.path.basename(cmd[0])} failed "
                         f"(exit {proc.returncode}): {' '.join(cmd)}")
    return proc


class Bench:
    def __init__(self, args):
        self.args = args
        root = _root()
        self.include = os.path.join(root, "include")
        build = os.path.abspath(args.build_dir or os.path.join(root, "build"))
        self.lib = os.path.join(build, "lib")
        self.ios_opt = os.path.join(build, "bin", "ios-opt")
        self.ios_translate = os.path.join(build, "bin", "ios-translate")
        self.env = dict(os.environ, PYTHONPATH=os.path.join(root, "python"))
        self.out = args.out or tempfile.mkdtemp(prefix="ios-launch-")
        os.makedirs(self.out, exist_ok=True)
        for tool in (self.ios_opt, self.ios_translate):
            if not os.access(tool, os.X_OK):
                raise SystemExit(f"error: {tool} not found; build first")
        if not os.path.exists(os.path.join(self.lib,
                                           "libIOSDeviceEmulator.a")):
            raise SystemExit("error: the build has no device emulator "
                             "(the CUDA backend was not configured)")

    def path(self, name):
        return os.path.join(self.out, name)

    def schedule(self, model):
        graph = self.path(f"{model}.mlir")
        weights = self.path(f"{model}.safetensors")
        _run([sys.executable, "-m", "ios.zoo", model, "--batch",
              str(self.args.batch), "--weights", weights, "-o", graph],
             env=self.env)
        scheduled = self.path(f"{model}.both.mlir")
        _run([self.ios_opt, graph,
              "--ios-schedule=strategy=both profiler=analytic", "-o",
              scheduled])
        return scheduled, weights

    def program(self, model, scheduled, order):
        stem = self.path(f"{model}.{order}")
        # ios-lower-to-cpp with the launch order set.
        _run([self.ios_opt, scheduled,
              f"--convert-ios-to-iosrt=launch-order={order}", "--cse",
              "--convert-iosrt-to-emitc=target=cuda",
              "-o", stem + ".lowered.mlir"])
        _run([self.ios_translate, "--ios-to-cuda", stem + ".lowered.mlir",
              "-o", stem + ".cu"])
        _run([self.args.nvcc, "-std=c++17", "-O2", "-DIOS_MAIN",
              "-cudart", "none", stem + ".cu", "-I", self.include,
              "-L", self.lib, "-lIOSRuntimeDriver", "-lIOSRuntimeCUDA",
              "-lIOSDeviceEmulator", "-lcudnn", "-o", stem + ".bin"])
        return stem

    def run(self, stem, weights):
        trace, output = stem + ".trace", stem + ".output.safetensors"
        _run([stem + ".bin", weights, "--runs", "2", "--warmup", "1",
              "--output", output],
             env=dict(self.env, IOS_EMU_TRACE=trace))
        row, _ = emulator.summarize(trace)
        with open(output, "rb") as f:
            return row, f.read()


def _delays(row):
    wide = [s for s in row.get("stages", []) if s["groups"] > 1]
    if not wide:
        return len(wide), "-", "-"

    def stat(key):
        values = [s[key] for s in wide]
        return f"{statistics.mean(values):.1f} / {max(values)}"
    return len(wide), stat("delay_ops"), stat("delay_calls")


def main(argv=None):
    p = argparse.ArgumentParser(prog="python3 -m ios.bench.launch",
                                description=__doc__.split("\n")[0])
    p.add_argument("--models", nargs="+", default=list(MODELS))
    p.add_argument("--batch", type=int, default=1)
    p.add_argument("--stages", action="store_true",
                   help="print every stage's start delays")
    p.add_argument("--build-dir", default=None)
    p.add_argument("--nvcc", default=os.environ.get("IOS_NVCC") or
                   shutil.which("nvcc") or "/usr/local/cuda/bin/nvcc")
    p.add_argument("--out", default=None, help="keep the files here")
    args = p.parse_args(argv)
    bench = Bench(args)
    head = ["network", "order", "calls/inference", *emulator.KINDS,
            "wide stages", "ops before last group (mean / max)",
            "calls before last group (mean / max)"]
    lines = [head]
    same = True
    for model in args.models:
        scheduled, weights = bench.schedule(model)
        outputs = {}
        for order in ORDERS:
            stem = bench.program(model, scheduled, order)
            row, outputs[order] = bench.run(stem, weights)
            wide, ops, calls = _delays(row)
            lines.append([model, order, str(row.get("calls", 0)),
                          *[str(row.get(k, 0)) for k in emulator.KINDS],
                          str(wide), ops, calls])
            if args.stages:
                print(f"{model}, {order}:")
                for s in row.get("stages", []):
                    if s["groups"] > 1:
                        print("  " + emulator.format_stage(s))
        if len(set(outputs.values())) != 1:
            same = False
            print(f"error: {model}: the two launch orders' outputs differ",
                  file=sys.stderr)
    print(emulator.markdown(lines))
    print("outputs of both orders identical: " + ("yes" if same else "NO"))
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
