"""The bulk writer never drops or hides a row: programming errors are not bad data, a poisoned
row does not stall the good ones, and a database that hangs counts as an outage."""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy.engine import URL

from alc_data import Database, OptionTick, StockTick, StockTickWriter, TickWriter
from alc_data.errors import InvalidRowError, RowsNotWrittenError, WriteFailedError
from tests.support.db_proxy import DbProxy
from tests.support.writing import T0, count, seed_contracts

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
async def db(migrated_url: URL, clean_db: object) -> AsyncIterator[Database]:
    async with Database.from_url(migrated_url) as database:
        yield database


def _balanced(writer: TickWriter) -> None:
    c = writer.counts
    assert c.accepted == c.written + c.duplicates + c.rejected_on_write + c.pending + c.in_flight


async def test_a_programming_error_keeps_every_row_and_says_so(
    db: Database, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """An exception without a SQLSTATE (here an injected TypeError, as a driver API change
    would raise) is not bad data: no row is rejected, no chunk is bisected, the rows stay."""
    _, (cid, *_) = await seed_contracts(db)
    writer = TickWriter(db, interval=3600)
    attempts: list[int] = []
    real = writer.copy.sql.write

    async def broken(conn: Any, rows: list[tuple[Any, ...]], *, idempotent: bool) -> int:
        attempts.append(len(rows))
        raise TypeError("copy_records_to_table() got an unexpected keyword argument 'x'")

    monkeypatch.setattr(writer.copy.sql, "write", broken)
    caplog.set_level(logging.ERROR)
    rows = [OptionTick(cid, T0 + timedelta(seconds=i), 1.0, 1.1) for i in range(64)]
    try:
        await writer.put_many(rows)
        with pytest.raises(WriteFailedError) as failed:
            await writer.flush()
        assert failed.value.kept == 64 and attempts == [64]  # one attempt, no bisection
        c = writer.counts
        assert (c.written, c.rejected, c.pending) == (0, 0, 64) and not writer.rejections
        assert "TypeError" in caplog.text and "rows are kept" in caplog.text
        monkeypatch.setattr(writer.copy.sql, "write", real)  # the bug is fixed: the rows go in
        assert await writer.flush() == 64
        _balanced(writer)
    finally:
        await writer.close()
    assert await count(db, "market_data_ticks") == 64


async def test_out_of_range_values_are_rejected_by_name_at_put(db: Database) -> None:
    _, (cid, *_) = await seed_contracts(db)
    now = datetime.now(UTC)
    bad = {
        "before 1990": OptionTick(cid, datetime(1, 1, 1, tzinfo=UTC), 1.0, 1.1),
        "five years ahead": OptionTick(cid, now + timedelta(days=6 * 366), 1.0, 1.1),
        "bid_size is negative": OptionTick(cid, T0, 1.0, 1.1, bid_size=-5),
        "must be an integer, got 1.5": OptionTick(cid, T0, 1.0, 1.1, bid_size=1.5),  # type: ignore[arg-type]
        "volume is out of range": OptionTick(cid, T0, 1.0, 1.1, volume=2**64),
        "bid_price is not a finite": OptionTick(cid, T0, Decimal("sNaN"), 1.1),  # type: ignore[arg-type]
        "ask_price is not a finite": OptionTick(cid, T0, 1.0, math.inf),
        "contract_id must be a positive": OptionTick(-cid, T0, 1.0, 1.1),
        "tick_type must be one of": OptionTick(cid, T0, 1.0, 1.1, tick_type="LIVE"),
    }
    good = [OptionTick(cid, T0 + timedelta(seconds=i), 1.0, 1.1) for i in range(50)]
    integral = OptionTick(cid, T0 - timedelta(seconds=1), 1.0, 1.1, bid_size=3.0)  # type: ignore[arg-type]
    async with TickWriter(db, interval=3600) as writer:
        for reason, row in bad.items():
            assert await writer.put(row) is False, reason
            assert isinstance(writer.rejections[-1], InvalidRowError)
            assert reason in str(writer.rejections[-1]), (reason, writer.rejections[-1])
        assert await writer.put_many([*good, integral]) == 51
        assert await writer.flush() == 51
    assert writer.counts.rejected_on_put == len(bad) and writer.counts.written == 51
    async with db.raw() as conn:
        assert await conn.fetchval(
            "SELECT bid_size FROM market_data_ticks WHERE time = $1", integral.time
        ) == 3  # fmt: skip


async def test_stock_sizes_are_counts(db: Database) -> None:
    spy, _ = await seed_contracts(db)
    async with StockTickWriter(db, interval=3600) as writer:
        assert await writer.put(StockTick(spy, T0, 500.0, bid_size=-1.0)) is False
        assert "bid_size is negative" in str(writer.rejections[-1])
        assert await writer.put(StockTick(spy, T0, 500.0, bid_size=200.0)) is True


async def test_a_day_without_a_possible_partition_does_not_stall_the_others(db: Database) -> None:
    """The database refuses to create one day's partition (an overlapping one exists): that
    day's rows are rejected by name, every other row is written, and no flush fails."""
    _, (cid, *_) = await seed_contracts(db)
    blocked = T0 + timedelta(days=1)
    async with db.raw() as conn:
        await conn.execute(
            "CREATE TABLE odd_partition PARTITION OF market_data_ticks FOR VALUES "
            "FROM ('2024-03-12 12:00+00') TO ('2024-03-13 12:00+00')"
        )
    good = [OptionTick(cid, T0 + timedelta(seconds=i), 1.0, 1.1) for i in range(50)]
    refused = [OptionTick(cid, blocked.replace(hour=1) + timedelta(seconds=i), 1.0, 1.1)
               for i in range(3)]  # fmt: skip
    writer = TickWriter(db, interval=3600)
    try:
        await writer.put_many([*good, *refused])
        assert await asyncio.wait_for(writer.flush(), 10) == 50
        c = writer.counts
        assert (c.written, c.rejected_on_write, c.pending, c.failed_flushes) == (50, 3, 0, 0)
        assert {r.row for r in writer.rejections} == set(refused)
        assert all("no partition" in str(r) for r in writer.rejections)
        _balanced(writer)
    finally:
        await writer.close()


async def test_a_database_that_hangs_is_an_outage_and_nothing_is_lost(
    db: Database, migrated_url: URL
) -> None:
    """The proxy stops forwarding without closing (a network partition): the flush gives up
    after write_timeout with every row kept, and writes them once the database answers."""
    _, (cid, *_) = await seed_contracts(db)
    proxy = DbProxy(migrated_url)
    through = await proxy.start()
    writer = TickWriter(Database.from_url(through, pool_pre_ping=False), interval=3600,
                        write_timeout=0.5)  # fmt: skip
    first = [OptionTick(cid, T0 + timedelta(seconds=i), 1.0, 1.1) for i in range(10)]
    rows = [OptionTick(cid, T0 + timedelta(minutes=1, seconds=i), 1.0, 1.1) for i in range(40)]
    try:
        await writer.put_many(first)
        assert await writer.flush() == 10  # positive control: the path works
        proxy.stall_when(b"COPY")
        await writer.put_many(rows)
        with pytest.raises(RowsNotWrittenError, match=r"did not answer within 0\.5 s") as hung:
            await asyncio.wait_for(writer.flush(), 20)
        assert proxy.triggered.is_set() and hung.value.kept == 40
        assert writer.counts.pending == 40
        _balanced(writer)
        proxy.resume()  # what the proxy held may now commit too: then they count as duplicates
        await asyncio.wait_for(writer.flush(), 20)
        c = writer.counts
        assert (c.written + c.duplicates, c.pending, c.rejected) == (50, 0, 0)
    finally:
        await asyncio.wait_for(writer.close(), 20)
        await writer.db.close()
        await proxy.sever()
    assert await count(db, "market_data_ticks") == 50
