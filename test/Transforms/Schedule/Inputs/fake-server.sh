#!/bin/sh
# A misbehaving exec: cost server for errors.mlir: reads one request, then
# answers as told by $1.
read -r request
case "$1" in
  garbage) echo 'not-json' ;;
  error) echo '{"id": 0, "error": "no GPU here"}' ;;
  badid) echo '{"id": 9, "latency_ms": 1}' ;;
  negative) echo '{"id": 0, "latency_ms": -2}' ;;
  huge) echo '{"id": 0, "latency_ms": 1e308}' ;;
  silent) sleep 5 ;;
esac
