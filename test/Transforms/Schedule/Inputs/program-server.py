"""An exec: cost server for compare.test: costs stages like
python/ios/cost_server.py, one at a time, announces "programs": true, and
answers a {"programs": [...]} request (docs/ExecProtocol.md, "Programs") as
MODE says:

    fewer     a program takes as many ms as it has stages (the searched
              schedule, with fewer stages, wins)
    more      a program takes 100 / its stages ms (the sequential wins)
    close     a program takes 100 + its stages / 5 ms (the searched, with 2
              stages, is 0.6% faster than the sequential, with 5)
    short     answers one latency too few
    error     answers {"error": ...}
    quiet     never announces programs (and fails if asked for some)

    program-server.py MODE [LOG]

With LOG, "stage" or "programs N" is appended to that file per request.
"""

import sys

from fake_cost import reply, requests, stage_ms

mode = sys.argv[1]
log = sys.argv[2] if len(sys.argv) > 2 else None


def note(request):
    programs = request.get("programs")
    return "stage" if programs is None else f"programs {len(programs)}"


for request in requests(log, note):
    rid = request["id"]
    programs = request.get("programs")
    if programs is None:
        answer = {"id": rid, "latency_ms": stage_ms(request["stage"])}
        if mode != "quiet":
            answer["programs"] = True
        reply(answer)
    elif mode == "quiet":
        reply({"id": rid, "error": "programs sent to a server that never announced them"})
    elif mode == "error":
        reply({"id": rid, "error": "program 1: no runtime here"})
    else:
        stages = [text.count("ios.stage ") for text in programs]
        latencies = [s if mode == "fewer" else 100 + s / 5 if mode == "close"
                     else 100.0 / s for s in stages]
        if mode == "short":
            latencies.pop()
        reply({"id": rid, "latencies_ms": latencies})
