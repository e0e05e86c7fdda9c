"""An example cost server for ``ios-opt --ios-schedule="profiler=exec:..."``.

It speaks the exec profiler protocol (docs/ExecProtocol.md): one JSON request
per line on stdin, one JSON reply per line on stdout, until stdin closes.

    request: {"id": 7, "device": "v100",
              "stage": {"strategy": "concurrent" | "merge", "batch": 1,
                        "groups": [[op, ...], ...], "edges": [[[from, to], ...], ...]}}
    op:      {"kind": "conv", "attrs": {...}, "inputs": [[C, H, W], ...],
              "output": [C, H, W], "batch": 1, "flops": F, "bytes": B}
    reply:   {"id": 7, "latency_ms": 0.123, "max_batch": 1024}
             or   {"id": 7, "error": "why"}

Every reply announces ``max_batch`` (``--max-batch``), so the scheduler may
also send batches, answered in one line:

    request: {"id": 8, "device": "v100", "stages": [stage, ...]}
    reply:   {"id": 8, "latencies_ms": [0.123, ...], "max_batch": 1024}

and ``"op_refs": true`` (unless ``--no-op-refs``), so the scheduler sends each
distinct op once: a request lists the ops it uses for the first time in
``"ops"``, appended to this session's table, and its stages' groups name ops
by their index in that table (an op may still be written out whole).

The model here is deliberately simple (a stand-in for a real measurement
harness, e.g. one that builds the stage in PyTorch and times it on a GPU):
an op costs ``--op-us`` plus its multiply-accumulates (half its declared
FLOPs, or its output elements when it declares none) at ``--gmacs``; a group
costs the sum of its ops; a stage costs its slowest group plus ``--join-us``
when it has several groups. Run ``python3 -m ios.cost_server --help``.
"""

import argparse
import json
import math
import sys
from ios import cli


def op_macs(op):
    """Multiply-accumulates of one op: half its declared FLOPs (the protocol's
    "flops", which every op of the ios dialect sends), or, for ops that
    declare no compute (memory-bound ops, foreign ops), its output elements."""
    flops = op.get("flops") or 0
    if flops > 0:
        return flops / 2
    out = op.get("output") or [1]
    return op.get("batch", 1) * math.prod(out)


def resolve(op, table):
    """An op of a stage: written out, or an index into the session's table."""
    if isinstance(op, dict):
        return op
    if isinstance(op, int) and not isinstance(op, bool) and 0 <= op < len(table):
        return table[op]
    raise ValueError(f"op reference {op!r} is not in the table of "
                     f"{len(table)} ops")


def stage_latency_ms(stage, args, table=()):
    groups = stage.get("groups")
    if not isinstance(groups, list) or not groups:
        raise ValueError("stage has no groups")
    group_us = []
    for group in groups:
        us = 0.0
        for op in group:
            op = resolve(op, table)
            us += args.op_us + op_macs(op) / (args.gmacs * 1e3)
        group_us.append(us)
    join = args.join_us if len(groups) > 1 else 0.0
    return (max(group_us) + join) / 1000.0


def answer(request, args, table):
    """The reply to one request (a stage, or a batch of "stages"); `table` is
    the session's op table, which the request's "ops" extend."""
    ops = request.get("ops", [])
    if not isinstance(ops, list) or not all(isinstance(o, dict) for o in ops):
        raise ValueError("\"ops\" must be a list of op objects")
    table.extend(ops)
    if "stages" in request:
        stages = request["stages"]
        if not isinstance(stages, list) or not 1 <= len(stages) <= args.max_batch:
            raise ValueError(f"\"stages\" must list 1 to {args.max_batch} "
                             "stages")
        latencies = []
        for i, stage in enumerate(stages):
            try:
                latencies.append(stage_latency_ms(stage, args, table))
            except Exception as e:
                raise ValueError(f"stage {i}: {type(e).__name__}: {e}") from e
        return {"latencies_ms": latencies}
    return {"latency_ms": stage_latency_ms(request["stage"], args, table)}


def serve(args, stdin=sys.stdin, stdout=sys.stdout):
    table = []  # the session's ops, by index
    announce = {"max_batch": args.max_batch}
    if args.op_refs:
        announce["op_refs"] = True
    for line in stdin:
        if not line.strip():
            continue
        request_id = None
        try:
            request = json.loads(line)
            request_id = request["id"]
            reply = {"id": request_id, **answer(request, args, table),
                     **announce}
        except Exception as e:  # report, keep serving
            reply = {"id": request_id, "error": f"{type(e).__name__}: {e}"}
        stdout.write(json.dumps(reply) + "\n")
        stdout.flush()


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog=cli.prog("ios.cost_server"),
        description="Example stage-cost server for ios-opt's exec: profiler.")
    parser.add_argument("--op-us", type=float, default=5.0,
                        help="fixed cost of every op in microseconds")
    parser.add_argument("--gmacs", type=float, default=5000.0,
                        help="throughput in giga multiply-accumulates per second")
    parser.add_argument("--join-us", type=float, default=10.0,
                        help="cost of joining a stage of several groups")
    parser.add_argument("--max-batch", type=int, default=1024,
                        help="most stages one request may carry (announced "
                             "in every reply; 1: one stage per request, the "
                             "protocol's first version)")
    parser.add_argument("--op-refs", action=argparse.BooleanOptionalAction,
                        default=True,
                        help="announce op references (each distinct op sent "
                             "once per session)")
    args = parser.parse_args(argv)
    if args.max_batch < 1:
        parser.error("--max-batch must be at least 1")
    serve(args)


if __name__ == "__main__":
    main()
