"""An exec: cost server for database.mlir: answers the first N requests like
python/ios/cost_server.py, then touches MARKER and never answers again (it
exits when its stdin closes).

    stall-server.py N MARKER
"""

import argparse
import json
import sys

from ios.cost_server import stage_latency_ms

limit, marker = int(sys.argv[1]), sys.argv[2]
model = argparse.Namespace(op_us=5.0, gmacs=5000.0, join_us=10.0)
for count, line in enumerate(sys.stdin):
    if count == limit:
        open(marker, "w").close()
    if count >= limit:
        continue
    request = json.loads(line)
    reply = {"id": request["id"],
             "latency_ms": stage_latency_ms(request["stage"], model)}
    sys.stdout.write(json.dumps(reply) + "\n")
    sys.stdout.flush()
