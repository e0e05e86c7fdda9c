"""Command line of the model zoo.

    python3 -m ios.zoo MODEL [--batch N] [-o FILE] [--weights FILE] [--seed S]
                             [--stats] [--no-parts] [--no-locations]
    python3 -m ios.zoo --list

Prints the model's ``ios`` MLIR (to stdout or ``-o FILE``); ``--weights FILE``
also writes seeded random parameters as safetensors; ``--stats`` prints op,
unit, part and parameter counts (instead of the MLIR, unless ``-o`` is given).
"""

import argparse
import sys
import time

from ios import safetensors, zoo
from ios.reference import positive_int
from ios import cli


def _model(text):
    if text not in zoo.MODELS:
        raise argparse.ArgumentTypeError(
            f"unknown model {text!r} (available: {', '.join(zoo.MODELS)})")
    return text


def format_stats(graph, build_seconds=None):
    """The ``--stats`` report: one ``key: value`` per line."""
    s = graph.stats()
    lines = [f"model: {s['name']}", f"batch: {s['batch']}", f"ops: {s['ops']}"]
    lines += [f"op {k}: {v}" for k, v in s["ops_by_mnemonic"].items()]
    lines += [f"kind {k}: {v}" for k, v in s["ops_by_kind"].items()]
    lines += [f"units: {s['units']}", f"multi-op units: {s['multi_op_units']}",
              f"parts: {s['parts']}", f"param tensors: {s['param_tensors']}",
              f"param scalars: {s['param_scalars']}", f"macs: {s['macs']}"]
    if build_seconds is not None:
        lines.append(f"build seconds: {build_seconds:.3f}")
    return "\n".join(lines) + "\n"


def main(argv=None):
    p = argparse.ArgumentParser(
        prog=cli.prog("ios.zoo"),
        description="Emit an IOS benchmark network as ios-dialect MLIR.")
    p.add_argument("model", nargs="?", type=_model, metavar="MODEL",
                   help="one of: " + ", ".join(zoo.MODELS))
    p.add_argument("--list", action="store_true", help="list the models and exit")
    p.add_argument("--batch", type=positive_int, default=1, metavar="N",
                   help="batch size (default 1)")
    p.add_argument("-o", "--output", metavar="FILE", help="write the MLIR here (default stdout)")
    p.add_argument("--weights", metavar="FILE",
                   help="also write seeded random parameters (safetensors)")
    p.add_argument("--seed", type=int, default=0, help="seed of --weights (default 0)")
    p.add_argument("--stats", action="store_true",
                   help="print op/unit/part/parameter counts (instead of the MLIR unless -o)")
    p.add_argument("--no-parts", action="store_true", help="omit the ios.part hints")
    p.add_argument("--no-locations", action="store_true", help="omit the op name locations")
    args = p.parse_args(argv)

    if args.list:
        for name in zoo.MODELS:
            print(f"{name:14s} {zoo.DESCRIPTIONS[name]}")
        return 0
    if args.model is None:
        p.error("a MODEL (or --list) is required")

    t0 = time.perf_counter()
    graph = zoo.build(args.model, batch=args.batch)
    if args.no_parts:
        for op in graph.ops:
            op.part = None
    text = graph.to_mlir(locations=not args.no_locations)
    build_seconds = time.perf_counter() - t0

    try:
        if args.output:
            with open(args.output, "w") as f:
                f.write(text)
        elif not args.stats:
            sys.stdout.write(text)
        if args.weights:
            t1 = time.perf_counter()
            params = graph.random_params(args.seed)
            safetensors.save(args.weights, params, {
                "model": args.model, "seed": str(args.seed),
                "generator": "ios.zoo (He-style normal weights, N(0, 0.01) biases)"})
            weight_seconds = time.perf_counter() - t1
        if args.stats:
            sys.stdout.write(format_stats(graph, build_seconds))
            if args.weights:
                print(f"weights seconds: {weight_seconds:.3f}")
    except OSError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
