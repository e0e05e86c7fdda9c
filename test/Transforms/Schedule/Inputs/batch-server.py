"""An exec: cost server for exec-batch.mlir that costs stages like
python/ios/cost_server.py and speaks the batched protocol
(docs/ExecProtocol.md, "Batches"), or misbehaves as MODE says:

    ok        answers everything
    v1        never announces batches, and answers a batch request with an
              error (so a test fails if one is ever sent)
    short     answers a batch with one latency too few
    badid     answers a batch under another id
    die       exits with status 3 when the first batch arrives
    silent    takes batches of 2, and never answers one
    error     answers a batch with {"error": ...}
    negative  answers a batch with a negative latency
    garbage   answers a batch with a line that is not JSON
    badmax    announces "max_batch": "lots"
    refs      also announces "op_refs": true and checks what it gets: the
              first request writes its ops out, later ones only refer to
              them, and no op is sent twice (else it answers an error)
    badrefs   announces "op_refs": "yes"

    batch-server.py MODE [LOG]

With LOG, the number of stages of each request is appended to that file
(refs: also the ops it defined and the op references its stages made).
"""

import json
import sys
import time

from fake_cost import reply, requests, stage_ms

mode = sys.argv[1]
log = sys.argv[2] if len(sys.argv) > 2 else None


table, seen = [], set()


def check_refs(request):
    """Why a request breaks the op_refs rules, or None."""
    for op in request.get("ops", []):
        text = json.dumps(op, sort_keys=True)
        if text in seen:
            return f"op sent twice: {text}"
        seen.add(text)
        table.append(op)
    refs = 0
    for stage in request.get("stages") or [request["stage"]]:
        for group in stage["groups"]:
            for op in group:
                if isinstance(op, int):
                    refs += 1
                    if not 0 <= op < len(table):
                        return f"reference {op} outside the table of {len(table)}"
                elif request["id"] > 0 and stage["strategy"] != "merge":
                    return "an op written out after op_refs was announced"
    if log:
        with open(log, "a") as f:
            f.write(f"ops {len(request.get('ops', []))} refs {refs}\n")
    return None


for request in requests(log, lambda r: str(len(r.get("stages") or [0]))):
    rid = request["id"]
    stages = request.get("stages")
    if mode == "refs":
        why = check_refs(request)
        if why:
            reply({"id": rid, "error": why})
            continue
        stages = [dict(s, groups=[[table[o] if isinstance(o, int) else o for o in g]
                                  for g in s["groups"]])
                  for s in (stages if stages is not None else [request["stage"]])]
        if "stages" not in request:
            request["stage"] = stages[0]
            stages = None
    if stages is None:
        answer = {"id": rid, "latency_ms": stage_ms(request["stage"])}
        if mode != "v1":
            answer["max_batch"] = {"badmax": "lots", "silent": 2}.get(mode, 1000)
        if mode in ("refs", "badrefs"):
            answer["op_refs"] = mode == "refs" or "yes"
        reply(answer)
        continue
    if mode == "v1":
        reply({"id": rid, "error": "a batch was sent to a server that never announced batches"})
    elif mode == "die":
        sys.exit(3)
    elif mode == "silent":
        time.sleep(60)
    elif mode == "error":
        reply({"id": rid, "error": "stage 1: no GPU here"})
    elif mode == "garbage":
        sys.stdout.write("not-json\n")
        sys.stdout.flush()
    else:
        latencies = [stage_ms(s) for s in stages]
        if mode == "short":
            latencies.pop()
        elif mode == "negative":
            latencies[-1] = -2
        reply({"id": rid + 5 if mode == "badid" else rid,
               "latencies_ms": latencies})
