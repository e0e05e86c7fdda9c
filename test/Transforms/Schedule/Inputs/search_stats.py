"""Prints the search statistics of an ios-schedule report (one line per
function) for FileCheck: DP states, transitions, distinct stages per part (the
measurements IOS would make) and profiler calls after canonical sharing."""
import json
import sys

report = json.load(open(sys.argv[1]))
for name, f in report["functions"].items():
    parts = f["stats"]["parts"]
    print(f"{name}: units {f['units']} blocks {f['stats']['blocks']} "
          f"parts {len(parts)} states {sum(p['states'] for p in parts)} "
          f"transitions {sum(p['transitions'] for p in parts)} "
          f"stages {sum(p['part_stages'] for p in parts)} "
          f"calls {report['profiler_calls']} "
          f"speedup {f['sequential_ms'] / f['latency_ms']:.2f}")
