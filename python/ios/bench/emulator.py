"""Host API calls per inference of CUDA programs run on the device emulator.

    python3 -m ios.bench.emulator TRACE... [--ops]

Each TRACE is the JSON-lines file a program linked against the test-only
device emulator (test/lib/DeviceEmulator) writes when run with
IOS_EMU_TRACE=TRACE: a first line {"program": NAME}, then one line per host
API call (CUDA runtime, cuDNN, kernel launch):

    {"seq": 57, "call": "cudnnConvolutionBiasActivationForward",
     "stream": 2, "op": "conv2d#4: conv2d", "bytes": ..., "flops": ...,
     "status": 0}

`stream` is the emulator's stream number (0: the legacy default stream,
then creation order; null for calls that enqueue nothing), `op` the CUDA
runtime's NVTX range the call was made in (the model's op, or "upload",
"record", ...).

The CUDA runtime marks where each stage begins (an NVTX mark "stage N"),
which the trace keeps as {"mark": "stage N", "before": SEQ}: the mark fell
between call SEQ - 1 and call SEQ.

An inference is every call from an "upload" range (the first call of an
emitted run()) up to the end of the next "finishRun" range (its last: the
download and the synchronizations).
Prints one row per trace: calls per inference (the last one's; "(first N)"
when only the first differs, as when it makes descriptors later ones
reuse, "(varies)" otherwise) in total and by kind
(launches = kernels and cuDNN compute calls; events = cudaEventRecord and
cudaStreamWaitEvent; copies; host synchronizations; descriptors = cuDNN
descriptor calls; other), plus the calls before the first inference (the
program's create()). With --ops, for each op of the last inference: the
position in the inference's call sequence (0-based) of its first launch.
With --stages, for each stage of the last inference: the streams its
launches use and, for the one that starts last, the ops enqueued and the
calls made since the stage's first launch (python3 -m ios.bench.launch
compares launch orders with it).
"""

import argparse
import json
import os
import sys

LAUNCH_PREFIXES = ("cudaLaunchKernel",)
CUDNN_COMPUTE = {"cudnnConvolutionForward",
                 "cudnnConvolutionBiasActivationForward", "cudnnAddTensor",
                 "cudnnActivationForward", "cudnnPoolingForward",
                 "cudnnSoftmaxForward"}
EVENTS = {"cudaEventRecord", "cudaStreamWaitEvent"}
SYNCS = {"cudaStreamSynchronize", "cudaDeviceSynchronize",
         "cudaEventSynchronize"}
# The NVTX range of an inference's last runtime call.
END = "finishRun"
KINDS = ("launches", "events", "copies", "syncs", "descriptors", "other")


def kind(call):
    if call.startswith(LAUNCH_PREFIXES) or call in CUDNN_COMPUTE:
        return "launches"
    if call in EVENTS:
        return "events"
    if call.startswith(("cudaMemcpy", "cudaMemset")):
        return "copies"
    if call in SYNCS:
        return "syncs"
    if call.startswith("cudnn") and "Descriptor" in call:
        return "descriptors"
    return "other"


def read(path, marks=None):
    """(program name, calls in sequence order). `marks`, if a list, gets
    the trace's marks as (before, name) pairs."""
    program, calls = os.path.basename(path), []
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            record = json.loads(line)
            if "program" in record:
                program = record["program"]
            elif "mark" in record:
                if marks is not None:
                    marks.append((record["before"], record["mark"]))
            else:
                calls.append(record)
    calls.sort(key=lambda c: c["seq"])
    if marks is not None:
        marks.sort()
    return program, calls


def stage_starts(run, marks):
    """How the launches of one inference (`run`: its calls) start, stage by
    stage: for each stage mark inside it, in order, a dict with the stage's
    name, `groups` (streams its launches use), and for the stream that
    starts last, `delay_calls` (host API calls made from the stage's first
    launch up to its first launch) and `delay_ops` (ops whose first launch
    came first: what the host enqueued before that stream got work)."""
    if not run:
        return []
    first, last = run[0]["seq"], run[-1]["seq"]
    inside = [(b, n) for b, n in marks if first <= b <= last]
    out = []
    for i, (begin, name) in enumerate(inside):
        end = inside[i + 1][0] if i + 1 < len(inside) else last + 1
        calls = [c for c in run if begin <= c["seq"] < end]
        starts, ops = {}, []
        for pos, c in enumerate(calls):
            if kind(c["call"]) != "launches":
                continue
            op = c.get("op") or ""
            if op not in ops:
                ops.append(op)
            starts.setdefault(c.get("stream"), (pos, len(ops) - 1))
        stage = {"stage": name, "groups": len(starts),
                 "delay_calls": 0, "delay_ops": 0}
        if starts:
            begin_pos = min(p for p, _ in starts.values())
            pos, before = max(starts.values())
            stage["delay_calls"] = pos - begin_pos
            stage["delay_ops"] = before
        out.append(stage)
    return out


def inferences(calls):
    """The calls before the first inference, and each inference's calls."""
    prologue, runs, current = [], [], None
    for c in calls:
        op = c.get("op") or ""
        if current is not None and current["finished"] and \
                op != END:
            current = None  # the inference ended with its finishRun
        if current is None and op == "upload":
            current = {"calls": [], "finished": False}
            runs.append(current)
        if current is None:
            if not runs:
                prologue.append(c)
            continue  # after an inference: destroy(), ...
        current["calls"].append(c)
        current["finished"] |= op == END
    return prologue, [r["calls"] for r in runs]


def summarize(path):
    marks = []
    program, calls = read(path, marks)
    prologue, runs = inferences(calls)
    row = {"program": program, "inferences": len(runs),
           "create": len(prologue)}
    if not runs:
        return row, []
    last = runs[-1]
    row["stages"] = stage_starts(last, marks)
    row["calls"] = len(last)
    for k in KINDS:
        row[k] = sum(1 for c in last if kind(c["call"]) == k)
    row["same"] = all(len(r) == len(last) for r in runs)
    # Typical: the first inference makes what later ones reuse.
    row["first"] = len(runs[0])
    row["steady"] = all(len(r) == len(last) for r in runs[1:])
    firsts, seen = [], set()
    for i, c in enumerate(last):
        op = c.get("op") or ""
        if kind(c["call"]) == "launches" and op not in seen:
            seen.add(op)
            firsts.append((op, i))
    return row, firsts


def format_stage(s):
    """One line of stage_starts()."""
    return (f"{s['stage']}: {s['groups']} stream(s); the last starts after "
            f"{s['delay_ops']} op(s), {s['delay_calls']} call(s)")


def table(rows):
    head = ["program", "inferences", "calls/inference", *KINDS,
            "create() calls"]
    lines = [head]
    for r in rows:
        if not r["inferences"]:
            lines.append([r["program"], "0", "-", *["-"] * len(KINDS),
                          str(r["create"])])
            continue
        calls = str(r["calls"])
        if not r["same"]:
            calls += (f" (first {r['first']})" if r["steady"]
                      else " (varies)")
        lines.append([r["program"], str(r["inferences"]), calls,
                      *[str(r[k]) for k in KINDS], str(r["create"])])
    return markdown(lines)


def markdown(lines):
    """A markdown table of rows of strings, the first the header."""
    widths = [max(len(l[i]) for l in lines) for i in range(len(lines[0]))]
    out = []
    for n, l in enumerate(lines):
        out.append("| " + " | ".join(x.ljust(w) for x, w in zip(l, widths))
                   + " |")
        if n == 0:
            out.append("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(out)


def main(argv=None):
    p = argparse.ArgumentParser(prog="python3 -m ios.bench.emulator",
                                description=__doc__.split("\n")[0])
    p.add_argument("traces", nargs="+", metavar="TRACE")
    p.add_argument("--ops", action="store_true",
                   help="per op, the position of its first launch")
    p.add_argument("--stages", action="store_true",
                   help="per stage, how late its last stream starts")
    args = p.parse_args(argv)
    rows = []
    for path in args.traces:
        row, firsts = summarize(path)
        rows.append(row)
        if args.ops:
            print(f"{row['program']}: first launch of each op (position in "
                  f"the inference's {row.get('calls', 0)} calls)")
            for op, i in firsts:
                print(f"  {i:6d}  {op}")
        if args.stages:
            print(f"{row['program']}: stages of the last inference")
            for stage in row.get("stages", []):
                print("  " + format_stage(stage))
    print(table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
