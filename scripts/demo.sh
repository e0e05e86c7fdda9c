#!/usr/bin/env bash
# The main job, end to end, on the embedded default: the IOS README's sample
# network from the model zoo, scheduled by IOS's dynamic program with the
# analytic V100 model, shown as IR and as a picture.
#
#   scripts/demo.sh [MODEL] [extra --ios-schedule options]
#   e.g. scripts/demo.sh inception_v3 "device=a100"
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${IOS_BUILD_DIR:-$root/build}"
out="${IOS_OUT_DIR:-$root/out}"
model="${1:-sample}"
extra="${2:-}"
"$root/scripts/setup.sh" >/dev/null
mkdir -p "$out"
export PYTHONPATH="$root/python${PYTHONPATH:+:$PYTHONPATH}"

/usr/bin/python3 -m ios.zoo "$model" -o "$out/$model.mlir"
"$build/bin/ios-opt" "$out/$model.mlir" \
  --ios-schedule="profiler=analytic device=v100 report=$out/$model.report.json $extra" \
  -o "$out/$model.scheduled.mlir"
"$build/bin/ios-translate" --ios-to-dot "$out/$model.scheduled.mlir" > "$out/$model.dot"
dot -Tsvg "$out/$model.dot" -o "$out/$model.svg"

if [[ "$model" == sample ]]; then
  echo "== schedule IR of the sample network =="
  cat "$out/$model.scheduled.mlir"
fi
/usr/bin/python3 - "$out/$model.report.json" <<'PY'
import json, sys
report = json.load(open(sys.argv[1]))
for name, f in report["functions"].items():
    parts = f["stats"]["parts"]
    print(f"== @{name}: {f['units']} units, {f['stages']} stages "
          f"(strategy {f['strategy']}, profiler {f['profiler']})")
    print(f"   estimated latency {f['latency_ms']:.3f} ms vs sequential "
          f"{f['sequential_ms']:.3f} ms ({f['sequential_ms'] / f['latency_ms']:.2f}x)")
    print(f"   search: {sum(p['seconds'] for p in parts):.3f} s, "
          f"{sum(p['states'] for p in parts)} states, "
          f"{sum(p['transitions'] for p in parts)} transitions, "
          f"{report['profiler_calls']} profiler calls")
PY
echo "== files: $out/$model.scheduled.mlir, picture $out/$model.svg"
