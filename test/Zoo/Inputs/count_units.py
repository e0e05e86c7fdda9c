"""Count ops, scheduling units and parts in ios MLIR read from stdin.

An op with `ios.unit = "u"` belongs to unit u; an op without one is a unit of
its own. Prints `ops: N`, `units: N`, `parts: N` and `part units: a b c ...`
(units per part, in part order). Used by the lit tests to check the zoo's IR
independently of the builder's own statistics.
"""
import re
import sys

ops = 0
units = {}  # unit key -> part
order = []
for line in sys.stdin:
    m = re.match(r"\s*%[\w.$-]+(:\d+)? = (ios\.\w+)", line)
    if not m or m.group(2) in ("ios.stage", "ios.group"):
        continue
    ops += 1
    u = re.search(r'ios\.unit = "([^"]+)"', line)
    p = re.search(r"ios\.part = (\d+) : i64", line)
    key = ("unit", u.group(1)) if u else ("op", ops)
    part = int(p.group(1)) if p else None
    if key in units:
        if units[key] != part:
            print(f"error: unit {key[1]} spans parts {units[key]} and {part}")
            sys.exit(1)
        continue
    units[key] = part
    order.append(key)
parts = sorted({p for p in units.values() if p is not None})
print(f"ops: {ops}")
print(f"units: {len(units)}")
print(f"parts: {len(parts)}")
print("part units: " + " ".join(str(sum(1 for k in order if units[k] == p)) for p in parts))
