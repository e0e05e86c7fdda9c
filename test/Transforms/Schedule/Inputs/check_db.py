"""Checks a stage database (database.mlir): every line is one whole JSON
record, no key (device, batch, stage) appears twice; with a second database,
both hold the same keys. Prints a one-line summary."""

import json
import sys


def keys(path):
    with open(path) as f:
        text = f.read()
    if text and not text.endswith("\n"):
        sys.exit(f"{path}: the last line has no newline")
    seen = set()
    for number, line in enumerate(text.splitlines(), 1):
        row = json.loads(line)  # fails on a torn or glued line
        key = (row["device"], row["batch"], row["stage"])
        if key in seen:
            sys.exit(f"{path} line {number}: {key} twice")
        seen.add(key)
    return seen


rows = keys(sys.argv[1])
summary = (f"{len(rows)} whole records, {len({k[0] for k in rows})} devices, "
           "no key twice")
if len(sys.argv) > 2:
    if keys(sys.argv[2]) != rows:
        sys.exit(f"{sys.argv[1]} and {sys.argv[2]} hold different keys")
    summary += ", the same keys as " + sys.argv[2]
print(summary)
