"""Load time of safetensors files with many tensors, in both readers.

Writes files of N one-float F32 tensors (plus a few ``__metadata__`` keys)
with :func:`ios.safetensors.dumps`, then times the runtime's reader
(``ios-runtime-bench --load-weights FILE``: ``loadWeights`` of the CPU
backend) and :func:`ios.safetensors.load`. Both readers are linear in the
number of tensors (plus one sort), so the time per tensor stays flat.

    python3 -m ios.bench.safetensors [--counts 20000 80000 200000]
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

from ios import safetensors as st
from ios.bench.schedules import default_build_dir


def write_file(path, count):
    one = np.ones(1, np.float32)
    tensors = {f"layer{i}.weight": one for i in range(count)}
    data = st.dumps(tensors, {f"key{i}": str(i) for i in range(16)})
    with open(path, "wb") as f:
        f.write(data)
    return len(data)


def runtime_ms(bench, path):
    """Milliseconds the runtime's loadWeights takes (printed by the tool)."""
    done = subprocess.run([bench, "--load-weights", path], check=True,
                          capture_output=True, text=True)
    return float(done.stdout.strip())


def python_ms(path):
    start = time.perf_counter()
    st.load(path)
    return (time.perf_counter() - start) * 1000


def run(counts, build_dir, out=sys.stdout):
    bench = os.path.join(build_dir, "bin", "ios-runtime-bench")
    out.write(f"{'tensors':>9} {'file MB':>8} {'runtime ms':>11} "
              f"{'us/tensor':>10} {'python ms':>10} {'us/tensor':>10}\n")
    with tempfile.TemporaryDirectory() as tmp:
        for count in counts:
            path = os.path.join(tmp, f"{count}.safetensors")
            size = write_file(path, count)
            rt = runtime_ms(bench, path)
            py = python_ms(path)
            out.write(f"{count:>9} {size / 1e6:>8.1f} {rt:>11.1f} "
                      f"{rt * 1000 / count:>10.2f} {py:>10.1f} "
                      f"{py * 1000 / count:>10.2f}\n")
            os.remove(path)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python3 -m ios.bench.safetensors",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("--counts", type=int, nargs="+",
                        default=[20000, 80000, 200000])
    parser.add_argument("--build-dir", default=default_build_dir())
    args = parser.parse_args(argv)
    run(args.counts, args.build_dir)


if __name__ == "__main__":
    main()
