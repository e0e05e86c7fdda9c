"""The importers on the torchvision models: a table per model.

For each model of ``ios.importer.models.MODELS`` (random weights, randomised
batch norms, batch 1): the number of ``ios`` ops and their mix, the time of
``torch.onnx.export``, of the ONNX import (``ios.importer``, from the
exported bytes) and of the torch.fx import (``ios.torch``), whether both paths
give the same graph, the accuracy of each against the torch model
(``ios.reference``, max |a - b| / max |b|), and whether ``ios-opt`` accepts the
graph today (parse and verify only; the first error line otherwise).

    python3 -m ios.bench.importer [--models NAME ...] [--build-dir DIR]
"""

import argparse
import io
import os
import subprocess
import sys
import tempfile
import time

from ios.bench.schedules import default_build_dir


def _accepted(ios_opt, text):
    if not os.path.exists(ios_opt):
        return "no ios-opt"
    with tempfile.NamedTemporaryFile("w", suffix=".mlir") as f:
        f.write(text)
        f.flush()
        proc = subprocess.run([ios_opt, f.name, "-o", os.devnull], capture_output=True,
                              text=True)
    if proc.returncode == 0:
        return "yes"
    first = next((l for l in proc.stderr.splitlines() if "error:" in l), proc.stderr.strip())
    return "no: " + first.split("error:", 1)[1].strip()


def _mix(graph):
    counts = {}
    for op in graph.ops:
        counts[op.kind] = counts.get(op.kind, 0) + 1
    return " ".join(f"{k}:{v}" for k, v in sorted(counts.items(), key=lambda kv: -kv[1]))


def main(argv=None):
    from ios.importer.models import MODELS
    p = argparse.ArgumentParser(
        prog="python3 -m ios.bench.importer",
        description="Import torchvision models through ONNX and torch.fx; print ops, import "
                    "times, accuracy and whether ios-opt accepts them.")
    p.add_argument("--models", nargs="+", default=MODELS, choices=MODELS, metavar="NAME",
                   help="models to import (default: all of " + ", ".join(MODELS) + ")")
    p.add_argument("--build-dir", default=default_build_dir(),
                   help="the build folder holding bin/ios-opt (default: build/)")
    p.add_argument("--threads", type=int, default=os.cpu_count() or 1,
                   help="torch threads (default: all CPUs)")
    args = p.parse_args(argv)

    import onnx
    import torch
    import ios.torch
    from ios import reference
    from ios.importer import import_onnx
    from ios.importer.models import torchvision_model
    from ios.pipeline import relative_error
    torch.set_num_threads(args.threads)
    ios_opt = os.path.join(args.build_dir, "bin", "ios-opt")

    header = (f"{'model':20s} {'ops':>4s} {'export s':>8s} {'onnx s':>7s} {'fx s':>6s} "
              f"{'same':>4s} {'err onnx':>9s} {'err fx':>9s}  ios-opt")
    print(header)
    print("-" * len(header))
    mixes = []
    for name in args.models:
        model, x = torchvision_model(name)
        with torch.no_grad():
            expected = model(x).numpy()
        t0 = time.perf_counter()
        buf = io.BytesIO()
        torch.onnx.export(model, x, buf)
        t1 = time.perf_counter()
        g_onnx, p_onnx = import_onnx(onnx.load_from_string(buf.getvalue()))
        t2 = time.perf_counter()
        g_fx, p_fx = ios.torch.import_module(model, x, name=name)
        t3 = time.perf_counter()
        err_onnx = relative_error(reference.run(g_onnx, p_onnx, x.numpy())[0], expected)
        err_fx = relative_error(reference.run(g_fx, p_fx, x.numpy())[0], expected)
        same = "yes" if g_onnx.structure() == g_fx.structure() else "NO"
        print(f"{name:20s} {len(g_fx.ops):4d} {t1 - t0:8.2f} {t2 - t1:7.3f} {t3 - t2:6.3f} "
              f"{same:>4s} {err_onnx:9.2e} {err_fx:9.2e}  {_accepted(ios_opt, g_fx.to_mlir())}",
              flush=True)
        mixes.append((name, _mix(g_fx)))
    print()
    for name, mix in mixes:
        print(f"{name:20s} {mix}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
