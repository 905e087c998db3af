"""The bulk writer recovering from data the database refuses late, and from outages mid-chunk.

A chunk must never get stuck: a refusal that is about the rows (a contract deleted since the
writer verified it, a partition dropped since the writer created it) rejects those rows by name
and writes the rest, also on the duplicate fallback path. And a chunk interrupted by an outage
after part of it committed re-queues only the rows not yet written, so that
``written + duplicates + rejected_on_write`` never exceeds ``accepted``.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy.engine import URL

from alc_data import Database, OptionTick, TickWriter
from alc_data.errors import RowsNotWrittenError, UnknownReferenceError
from tests.support.writing import T0, RestartableProxy, count, seed_contracts


@pytest.fixture
async def db(migrated_url: URL, clean_db: object) -> AsyncIterator[Database]:
    async with Database.from_url(migrated_url) as database:
        yield database


def _balanced(writer: TickWriter) -> None:
    c = writer.counts
    assert c.accepted == c.written + c.duplicates + c.rejected_on_write + c.pending + c.in_flight


async def test_a_contract_deleted_after_it_was_verified_does_not_block_the_duplicate_fallback(
    db: Database,
) -> None:
    _, (cid, gone, *_) = await seed_contracts(db)
    writer = TickWriter(db, interval=3600)
    try:
        await writer.put_many([OptionTick(cid, T0, 1.0, 1.1), OptionTick(gone, T0, 1.0, 1.1)])
        assert await writer.flush() == 2
        async with db.raw() as conn:  # the contract goes away after the writer verified it
            await conn.execute("DELETE FROM market_data_ticks WHERE contract_id = $1", gone)
            await conn.execute("DELETE FROM option_chains WHERE id = $1", gone)
        orphan = OptionTick(gone, T0 + timedelta(seconds=1), 1.0, 1.1)
        await writer.put_many(
            [
                OptionTick(cid, T0, 1.0, 1.1),  # already stored: COPY fails on 23505
                OptionTick(cid, T0 + timedelta(seconds=1), 1.0, 1.1),  # new
                orphan,  # the fallback's INSERT then fails on 23503
            ]
        )
        assert await asyncio.wait_for(writer.flush(), 10) == 1
        c = writer.counts
        assert (c.written, c.duplicates, c.rejected_on_write, c.pending) == (3, 1, 1, 0)
        refused = writer.rejections[-1]
        assert refused.row == orphan and isinstance(refused, UnknownReferenceError)
        assert str(gone) in str(refused)
        # The writer forgot the contract: the next row for it is refused before any COPY.
        await writer.put(OptionTick(gone, T0 + timedelta(seconds=2), 1.0, 1.1))
        assert await asyncio.wait_for(writer.flush(), 10) == 0
        assert writer.counts.rejected_on_write == 2 and writer.counts.failed_flushes == 0
        _balanced(writer)
    finally:
        await asyncio.wait_for(writer.close(), 10)
    assert await count(db, "market_data_ticks") == 2  # cid at T0 and T0 + 1 s


async def test_a_partition_dropped_after_it_was_created_does_not_block_the_duplicate_fallback(
    db: Database,
) -> None:
    _, (cid, *_) = await seed_contracts(db)
    later = T0 + timedelta(days=1)
    # More rows than COPY buffers before inserting (1,000), so that COPY meets a duplicate
    # before it routes the row whose partition is gone: the fallback meets the partition.
    stored = [OptionTick(cid, T0 + timedelta(seconds=i), 1.0, 1.1) for i in range(1200)]
    writer = TickWriter(db, interval=3600)
    try:
        await writer.put_many([*stored, OptionTick(cid, later, 1.0, 1.1)])
        assert await writer.flush() == 1201
        async with db.raw() as conn:  # maintenance drops the later day's partition
            part = await conn.fetchval(
                "SELECT tablename FROM partition_info WHERE parent_table = 'market_data_ticks' "
                "AND range_start <= $1 AND $1 < range_end",
                later,
            )
            await conn.execute(f'DROP TABLE "{part}"')
        # Already stored (COPY fails on 23505), then a row whose partition is gone.
        await writer.put_many([*stored, OptionTick(cid, later + timedelta(seconds=1), 1.0, 1.1)])
        assert await asyncio.wait_for(writer.flush(), 10) == 1
        c = writer.counts
        assert (c.written, c.duplicates, c.rejected, c.pending) == (1202, 1200, 0, 0)
        assert c.failed_flushes == 0
        _balanced(writer)
    finally:
        await asyncio.wait_for(writer.close(), 10)
    assert await count(db, "market_data_ticks") == 1201


async def test_an_outage_in_the_middle_of_a_split_chunk_requeues_only_the_unwritten_rows(
    db: Database, migrated_url: URL, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, (cid, *_) = await seed_contracts(db)
    proxy = RestartableProxy(migrated_url)
    port = await proxy.start()
    proxied = migrated_url.set(host="127.0.0.1", port=port, query={})
    writer = TickWriter(Database.from_url(proxied, pool_pre_ping=False), idempotent=True,
                        interval=3600)  # fmt: skip
    good = [OptionTick(cid, T0 + timedelta(seconds=i), 1.0, 1.1) for i in range(100)]
    # Passes the row checks (finite prices) but the database refuses it: its generated
    # mid_price overflows (22003). The chunk is split to isolate it.
    bad = OptionTick(cid, T0 - timedelta(seconds=1), 1.7e308, 1.7e308)
    real_write = writer.copy.sql.write
    calls: list[int] = []

    async def write(conn: Any, rows: list[tuple[Any, ...]], *, idempotent: bool) -> int:
        calls.append(len(rows))
        inserted = await real_write(conn, rows, idempotent=idempotent)
        if len(calls) == 2:  # the first half of the split chunk has committed
            await proxy.sever()
        return inserted

    monkeypatch.setattr(writer.copy.sql, "write", write)
    try:
        await writer.put_many([*good, bad])
        with pytest.raises(RowsNotWrittenError) as failed:
            await writer.flush()
        assert calls[:2] == [101, 50]
        assert writer.counts.written == 50 and failed.value.kept == 51
        assert writer.counts.pending == 51
        _balanced(writer)
        await proxy.start(port)
        await asyncio.wait_for(writer.close(), 10)
        c = writer.counts
        assert (c.written, c.duplicates, c.rejected_on_write, c.pending) == (100, 0, 1, 0)
        assert writer.rejections[-1].row == bad
        _balanced(writer)
    finally:
        await writer.db.close()
        await proxy.sever()
    assert await count(db, "market_data_ticks") == 100
