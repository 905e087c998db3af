"""``alc_ensure_partition`` under concurrency and behind a long reader (revision 0004)."""

from __future__ import annotations

import asyncio
import collections

import asyncpg
import pytest
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncEngine

from alc_data.db.database import asyncpg_connect_args

pytestmark = pytest.mark.timeout(120)
ENSURE = "SELECT alc_ensure_partition('market_data_ticks', $1::text::timestamptz)"


async def test_every_concurrent_caller_for_a_new_day_succeeds(
    clean_db: AsyncEngine, migrated_url: URL
) -> None:
    pool = await asyncpg.create_pool(**asyncpg_connect_args(migrated_url), min_size=40, max_size=40)
    outcomes: collections.Counter[str] = collections.Counter()

    async def call() -> None:
        try:
            async with pool.acquire() as conn:
                outcomes[str(await conn.fetchval(ENSURE, "2031-05-05 12:00+00"))] += 1
        except asyncpg.PostgresError as exc:
            outcomes[f"{type(exc).__name__}: {exc}"] += 1

    try:
        await asyncio.gather(*(call() for _ in range(900)))
    finally:
        await pool.close()
    assert outcomes == {"True": 1, "False": 899}  # one created it, none failed


async def _waiting_exclusive(conn: asyncpg.Connection) -> bool:
    """True while someone queues for an ACCESS EXCLUSIVE lock on market_data_ticks."""
    return bool(
        await conn.fetchval(
            "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE NOT granted "
            "AND mode = 'AccessExclusiveLock' AND relation = 'market_data_ticks'::regclass)"
        )
    )


async def test_partition_creation_does_not_queue_behind_a_long_reader(
    clean_db: AsyncEngine, migrated_url: URL
) -> None:
    """A reader's open transaction holds the parent table. The creation asks for its lock, gives
    up after its lock_timeout (so new readers are not held up behind it), retries, and
    succeeds once the reader is done."""
    args = asyncpg_connect_args(migrated_url)
    reader, observer, writer = [await asyncpg.connect(**args) for _ in range(3)]
    try:
        await reader.execute("BEGIN")
        await reader.fetchval("SELECT count(*) FROM market_data_ticks")
        creation = asyncio.create_task(writer.fetchval(ENSURE, "2031-06-06 12:00+00"))
        seen_waiting = left_queue = False
        for _ in range(2000):  # poll the lock queue while the reader holds the table
            waiting = await _waiting_exclusive(observer)
            seen_waiting |= waiting
            if seen_waiting and not waiting and not creation.done():
                left_queue = True  # it stepped out of the queue between two attempts
                break
            await asyncio.sleep(0.01)
        assert seen_waiting and left_queue and not creation.done()
        await reader.execute("COMMIT")
        assert await asyncio.wait_for(creation, 30) is True
    finally:
        for conn in (reader, observer, writer):
            await conn.close()
