"""What the test cost servers share: the example server's model
(python/ios/cost_server.py) at 1 GMAC/s, and writing a reply line."""

import argparse
import json
import sys

from ios.cost_server import stage_latency_ms

MODEL = argparse.Namespace(op_us=5.0, gmacs=1.0, join_us=10.0)


def stage_ms(stage, table=()):
    """The stage's latency under MODEL."""
    return stage_latency_ms(stage, MODEL, table)


def reply(obj):
    """Writes one reply line and flushes it (the scheduler waits for it)."""
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def requests(log, note):
    """The requests on stdin, parsed; with a `log` file, each request's
    note(request) line is appended to it first."""
    for line in sys.stdin:
        request = json.loads(line)
        if log:
            with open(log, "a") as f:
                f.write(note(request) + "\n")
        yield request
