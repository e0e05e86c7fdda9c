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

    batch-server.py MODE [LOG]

With LOG, the number of stages of each request is appended to that file.
"""

import argparse
import json
import sys
import time

from ios.cost_server import stage_latency_ms

mode = sys.argv[1]
log = sys.argv[2] if len(sys.argv) > 2 else None
model = argparse.Namespace(op_us=5.0, gmacs=1.0, join_us=10.0)


def reply(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


for line in sys.stdin:
    request = json.loads(line)
    rid = request["id"]
    stages = request.get("stages")
    if log:
        with open(log, "a") as f:
            f.write(f"{len(stages) if stages is not None else 1}\n")
    if stages is None:
        answer = {"id": rid, "latency_ms": stage_latency_ms(request["stage"], model)}
        if mode != "v1":
            answer["max_batch"] = {"badmax": "lots", "silent": 2}.get(mode, 1000)
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
        latencies = [stage_latency_ms(s, model) for s in stages]
        if mode == "short":
            latencies.pop()
        elif mode == "negative":
            latencies[-1] = -2
        reply({"id": rid + 5 if mode == "badid" else rid,
               "latencies_ms": latencies})
