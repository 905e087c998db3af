"""The bulk writers against the real database: rejection, idempotence, concurrency, outages."""

from __future__ import annotations

import asyncio
import math
from collections.abc import AsyncIterator
from datetime import datetime, timedelta

import pytest
from sqlalchemy.engine import URL

from alc_data import (
    Database,
    OptionBarRow,
    OptionBarWriter,
    OptionTick,
    StockBarRow,
    StockBarWriter,
    StockTick,
    StockTickWriter,
    TickWriter,
)
from alc_data.errors import (
    AlcDataError,
    InvalidRowError,
    RowsNotWrittenError,
    UnknownReferenceError,
)
from tests.support.writing import T0, RestartableProxy, count, seed_contracts


@pytest.fixture
async def db(migrated_url: URL, clean_db: object) -> AsyncIterator[Database]:
    async with Database.from_url(migrated_url) as database:
        yield database


async def test_bad_rows_are_rejected_and_the_rest_written(db: Database) -> None:
    _, (cid, *_) = await seed_contracts(db)
    good = [OptionTick(cid, T0 + timedelta(seconds=i), 1.0, 1.1) for i in range(100)]
    bad = [
        OptionTick(cid, T0 - timedelta(seconds=1), math.nan, 1.0),
        OptionTick(cid, T0 - timedelta(seconds=2), 1.0, math.inf),
        OptionTick(cid, T0 - timedelta(seconds=3), 1.0, 1.1, delta=-math.inf),
        OptionTick(cid, datetime(2024, 3, 11, 10), 1.0, 1.1),  # naive
        OptionTick(987654, T0, 1.0, 1.1),  # unknown contract
        OptionTick(cid, T0 - timedelta(seconds=4), tick_type="LIVE"),
        ("not", "a", "tick"),
    ]
    seen: list[InvalidRowError] = []
    batch = good[:50] + bad + good[50:]
    async with TickWriter(db, on_reject=seen.append) as writer:
        assert await writer.put_many(batch) == len(good) + 1  # unknown contract: found later
    counts = writer.counts
    assert await count(db, "market_data_ticks") == len(good)
    assert counts.written == len(good) and counts.rejected == len(bad)
    assert counts.put == len(batch) and counts.pending == 0
    assert [e.row for e in writer.rejections] == bad[:4] + bad[5:] + [bad[4]]
    assert seen == list(writer.rejections)
    unknown = writer.rejections[-1]
    assert isinstance(unknown, UnknownReferenceError) and "987654" in str(unknown)
    assert "naive" in writer.rejections[3].reason


async def test_idempotent_reingestion_writes_nothing_twice(db: Database) -> None:
    _, ids = await seed_contracts(db)
    rows = [OptionTick(c, T0 + timedelta(seconds=i), 1.0, 1.2) for c in ids for i in range(500)]
    async with TickWriter(db, idempotent=True, chunk_rows=300) as first:
        await first.put_many(rows)
    async with TickWriter(db, idempotent=True, chunk_rows=300) as again:
        await again.put_many(rows[::-1])
    # Without idempotent mode, a replay falls back to the staging path for the clashing chunks.
    async with TickWriter(db, chunk_rows=400) as plain:
        extra = OptionTick(ids[0], T0 - timedelta(days=2), 2.0, 2.1)
        await plain.put_many([*rows[:1000], extra])
    assert (first.counts.written, first.counts.duplicates) == (1500, 0)
    assert (again.counts.written, again.counts.duplicates) == (0, 1500)
    assert (plain.counts.written, plain.counts.duplicates) == (1, 1000)
    assert await count(db, "market_data_ticks") == 1501


async def test_many_concurrent_producers_lose_nothing(db: Database) -> None:
    _, ids = await seed_contracts(db, n=20)
    writer = TickWriter(db, batch_size=97, interval=0.01, chunk_rows=250, max_pending=600)

    held: list[int] = []

    async def produce(cid: int) -> None:
        for i in range(1500):
            await writer.put(OptionTick(cid, T0 + timedelta(milliseconds=i * 7), 1.0, 1.1))
            held.append(writer.counts.pending + writer.counts.in_flight)
            if i % 50 == 0:
                await asyncio.sleep(0)

    await asyncio.gather(*(produce(c) for c in ids))
    await writer.close()
    await writer.close()  # safe twice
    assert writer.counts.put == 20 * 1500 == writer.counts.written
    # The memory bound: max_pending queued + parallel * chunk_rows in flight (+1 being put).
    assert max(held) <= 600 + 2 * 250 + 1
    assert await count(db, "market_data_ticks") == 20 * 1500
    with pytest.raises(AlcDataError):
        await writer.put(OptionTick(ids[0], T0, 1.0, 1.1))


async def _eventually_count(db: Database, n: int) -> int:
    for _ in range(500):
        if (seen := await count(db, "market_data_ticks")) == n:
            return seen
        await asyncio.sleep(0.02)
    return await count(db, "market_data_ticks")


async def test_flushes_on_interval(db: Database) -> None:
    _, (cid, *_) = await seed_contracts(db)
    writer = TickWriter(db, batch_size=10, interval=0.05)
    try:
        await writer.put(OptionTick(cid, T0, 1.0, 1.1))  # one row, far below the batch size
        assert await _eventually_count(db, 1) == 1  # the interval flush, without close()
    finally:
        await writer.close()


async def test_flushes_on_batch_size(db: Database) -> None:
    """The interval (an hour) cannot fire during the test: only the size trigger can flush."""
    _, (cid, *_) = await seed_contracts(db)
    writer = TickWriter(db, batch_size=10, interval=3600)
    try:
        for i in range(9):
            await writer.put(OptionTick(cid, T0 + timedelta(seconds=i), 1.0, 1.1))
        await asyncio.sleep(0.2)
        assert await count(db, "market_data_ticks") == 0 and writer.counts.flushes == 0
        await writer.put(OptionTick(cid, T0 + timedelta(seconds=9), 1.0, 1.1))  # the 10th
        assert await _eventually_count(db, 10) == 10
        assert writer.counts.flushes == 1
    finally:
        await writer.close()


async def test_rows_spanning_days_and_months_create_their_partitions(db: Database) -> None:
    spy, (cid, *_) = await seed_contracts(db)
    days = [T0 + timedelta(days=d) for d in range(0, 70, 7)]
    async with TickWriter(db) as ticks, StockTickWriter(db) as stock:
        await ticks.put_many(OptionTick(cid, t, 1.0, 1.1) for t in days)
        await stock.put_many(StockTick(spy, t, price=500.0, volume=1e6) for t in days)
    async with OptionBarWriter(db) as bars, StockBarWriter(db) as stock_bars:
        await bars.put_many(
            OptionBarRow(cid, "BID_ASK", "1 min", t, 1.0, 1.3, 0.9, 1.2) for t in days
        )
        await stock_bars.put_many(
            StockBarRow(spy, "TRADES", "1 day", t, 1, 2, 0.5, 1.5, 1e6) for t in days
        )
        await stock_bars.put(StockBarRow(spy, "TRADES", "1 day", days[0], 1, 2, 0.5, 1.5))
    assert stock_bars.counts.duplicates == 1  # bar writers are idempotent by default
    for table in ("market_data_ticks", "stock_data_ticks", "option_bars", "stock_bars"):
        assert await count(db, table) == len(days), table
    async with db.raw() as conn:
        parts = await conn.fetchval(
            "SELECT count(*) FROM partition_info WHERE parent_table = 'market_data_ticks'"
        )
        monthly = await conn.fetchval(
            "SELECT count(*) FROM partition_info WHERE parent_table = 'option_bars'"
        )
    assert (parts, monthly) == (len(days), 3)


async def test_a_failed_flush_keeps_the_rows_for_retry(db: Database, migrated_url: URL) -> None:
    _, (cid, *_) = await seed_contracts(db)
    proxy = RestartableProxy(migrated_url)
    port = await proxy.start()
    proxied = migrated_url.set(host="127.0.0.1", port=port, query={})
    writer = TickWriter(Database.from_url(proxied, pool_pre_ping=False), interval=3600)
    rows = [OptionTick(cid, T0 + timedelta(seconds=i), 1.0, 1.1) for i in range(200)]
    await writer.put_many(rows[:100])
    assert await writer.flush() == 100
    await proxy.sever()
    await writer.put_many(rows[100:])
    with pytest.raises(RowsNotWrittenError) as failed:
        await writer.flush()
    assert failed.value.kept == 100 and writer.counts.pending == 100
    assert writer.counts.failed_flushes == 1 and writer.counts.last_error
    with pytest.raises(RowsNotWrittenError):
        await writer.close()  # still down: close says so and keeps the rows
    await proxy.start(port)
    await writer.close()  # retried: everything written
    assert writer.counts.written == 200 and writer.counts.pending == 0
    assert await count(db, "market_data_ticks") == 200
    await writer.db.close()
    await proxy.sever()
