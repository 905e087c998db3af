#!/usr/bin/env bash
# Stop the engine started by start.sh (SIGTERM, then SIGKILL after 10 s). Idempotent.
set -euo pipefail
STATE="${ALC_TS_STATE_DIR:-${TMPDIR:-/tmp}/alc-timescale}"
PIDFILE="$STATE/server.pid"
if [ ! -f "$PIDFILE" ]; then echo "stop.sh: not running" >&2; exit 0; fi
PID="$(cat "$PIDFILE")"
if kill -0 "$PID" 2>/dev/null; then
  kill -TERM "$PID"
  for _ in $(seq 1 100); do kill -0 "$PID" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$PID" 2>/dev/null; then echo "stop.sh: $PID did not exit on SIGTERM; SIGKILL" >&2; kill -KILL "$PID" || true; fi
fi
rm -f "$PIDFILE" "$STATE/server.port" "$STATE/url"
echo "stop.sh: stopped" >&2
