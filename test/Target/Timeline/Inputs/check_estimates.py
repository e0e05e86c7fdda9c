"""Reads --ios-to-timeline JSON on stdin; prints "DEVICE: N stages, model =
estimate" if every stage's simulated latency equals its IR estimate (which
--ios-schedule rounds to the nanosecond) and every op lies inside its stage,
else what differs."""
import json
import sys

for f in json.load(sys.stdin)["functions"]:
    bad = []
    for s in f["stages"]:
        if abs(s["model_ms"] - s["estimated_ms"]) > 0.5e-6 + 1e-12:
            bad.append(f"stage {s['index']}: model {s['model_ms']} "
                       f"estimate {s['estimated_ms']}")
        for group in s["groups"]:
            for op in group:
                if not (s["start_ms"] <= op["start_ms"] <= op["end_ms"]
                        <= s["end_ms"]):
                    bad.append(f"{op['name']} outside stage {s['index']}")
    print(f"{f['device']}: {len(f['stages'])} stages, "
          + ("model = estimate" if not bad else "; ".join(bad)))
