#!/usr/bin/env bash
# Runs once at initialisation (docker-entrypoint-initdb.d): creates the read-only role for
# strategy code from ALC_READONLY_USER / ALC_READONLY_PASSWORD in podman/.env.
set -euo pipefail
if [ -z "${ALC_READONLY_PASSWORD:-}" ]; then
  echo "20-readonly-role.sh: ALC_READONLY_PASSWORD is empty; not creating the read-only role" >&2
  exit 0
fi
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
  -v reader="${ALC_READONLY_USER:-strategy_reader}" -v reader_password="$ALC_READONLY_PASSWORD" \
  -v owner="$POSTGRES_USER" -v dbname="$POSTGRES_DB" \
  -f /docker-entrypoint-initdb.d/readonly-role.psql
