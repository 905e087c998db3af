#!/usr/bin/env python3
"""Self-check of the local TimescaleDB engine: connect, ensure the extension, print its version.

    python .ci/timescale/smoke.py [URL]   (default: $ALC_TIMESCALE_URL, then the start.sh one)

Exits 0 and prints "timescaledb X on PostgreSQL Y" when the extension exists (creating it if
needed); exits 1 with a reason otherwise. Uses asyncpg with statement_cache_size=0.
"""

from __future__ import annotations

import asyncio
import os
import sys

DEFAULT_URL = "postgresql://postgres:postgres@127.0.0.1:55432/postgres?sslmode=disable"


async def check(url: str) -> str:
    import asyncpg

    conn = await asyncpg.connect(url, statement_cache_size=0, timeout=15)
    try:
        version = await conn.fetchval(
            "SELECT extversion FROM pg_extension WHERE extname = 'timescaledb'", timeout=30
        )
        if version is None:
            available = await conn.fetchval(
                "SELECT default_version FROM pg_available_extensions WHERE name = 'timescaledb'"
            )
            if available is None:
                raise RuntimeError("timescaledb is not in pg_available_extensions")
            await conn.execute("CREATE EXTENSION IF NOT EXISTS timescaledb", timeout=60)
            version = await conn.fetchval(
                "SELECT extversion FROM pg_extension WHERE extname = 'timescaledb'"
            )
        if version is None:
            raise RuntimeError("CREATE EXTENSION timescaledb succeeded but pg_extension lacks it")
        bucket = await conn.fetchval("SELECT time_bucket(INTERVAL '1 minute', now()) IS NOT NULL")
        if not bucket:
            raise RuntimeError("time_bucket() did not answer")
        server = await conn.fetchval("SHOW server_version")
        return f"timescaledb {version} on PostgreSQL {server}"
    finally:
        await asyncio.wait_for(conn.close(), 10)


def main() -> int:
    url = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("ALC_TIMESCALE_URL", DEFAULT_URL)
    try:
        print(asyncio.run(asyncio.wait_for(check(url), 120)))
    except Exception as exc:
        print(
            f"smoke.py: TimescaleDB engine check failed at {url}: {type(exc).__name__}: {exc}",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
