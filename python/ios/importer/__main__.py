"""Command line of the ONNX importer.

    python3 -m ios.importer MODEL.onnx [-o GRAPH.mlir] [--weights W.safetensors]
                            [--batch N] [--no-locations] [--stats]
"""

import argparse
import sys

from ios.importer import ImporterError, import_onnx, write
from ios.reference import positive_int
from ios.zoo.__main__ import format_stats
from ios import cli


def main(argv=None):
    p = argparse.ArgumentParser(
        prog=cli.prog("ios.importer"),
        description="Import an ONNX model as graph-level ios MLIR plus safetensors weights. "
                    "On an unsupported op or attribute: one error naming the node, exit 1, "
                    "no file written.")
    p.add_argument("model", metavar="MODEL.onnx", help="the ONNX model file")
    p.add_argument("-o", "--output", metavar="FILE",
                   help="write the MLIR here (default: stdout, unless --stats)")
    p.add_argument("--weights", metavar="FILE",
                   help="write the parameters here (safetensors, keyed by ONNX initializer "
                        "names and the derived names of docs/Import.md)")
    p.add_argument("--batch", type=positive_int, metavar="N",
                   help="batch size: replaces the first dimension of every input "
                        "(default: the model's, 1 where symbolic)")
    p.add_argument("--no-locations", action="store_true",
                   help="omit the loc(\"<ONNX node name>\") of every op")
    p.add_argument("--stats", action="store_true",
                   help="print op/parameter counts (instead of the MLIR unless -o)")
    args = p.parse_args(argv)
    try:
        graph, params = import_onnx(args.model, batch=args.batch)
        text = write(graph, params, args.output, args.weights,
                     {"source": args.model, "importer": "ios.importer (ONNX)"},
                     locations=not args.no_locations)
    except ImporterError as e:
        print(f"error: {args.model}: {e}", file=sys.stderr)
        return 1
    except OSError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    if args.stats:
        sys.stdout.write(format_stats(graph))
    elif args.output is None:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
