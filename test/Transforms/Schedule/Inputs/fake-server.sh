#!/bin/sh
# A misbehaving exec: cost server for errors.mlir and exec.mlir.
#   background PIDFILE PYTHON: starts a long sleep in the background (its pid in
#     PIDFILE), then serves like python/ios/cost_server.py
# Otherwise: reads one request, then answers as told by $1.
#   orphan PIDFILE: starts a long sleep in the background (its pid in
#     PIDFILE) and never answers
if [ "$1" = background ]; then
  sleep 60 &
  echo $! > "$2"
  exec "$3" -m ios.cost_server
fi
read -r request
case "$1" in
  orphan) sleep 60 & echo $! > "$2"; wait ;;
  garbage) echo 'not-json' ;;
  error) echo '{"id": 0, "error": "no GPU here"}' ;;
  badid) echo '{"id": 9, "latency_ms": 1}' ;;
  negative) echo '{"id": 0, "latency_ms": -2}' ;;
  huge) echo '{"id": 0, "latency_ms": 1e308}' ;;
  silent) sleep 5 ;;
esac
