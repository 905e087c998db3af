"""The writer's ``before_write`` callback, and inline validation wired through it.

The callback sees every accepted row exactly once, before it is written (also rows put while a
flush runs, and rows re-queued after an outage are not shown twice); it cannot stop the write.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy.engine import URL

from alc_data import Database, DataValidator, OptionTick, TickWriter
from alc_data.errors import RowsNotWrittenError
from alc_data.validation import InlineValidationHook
from alc_data.validation.tally import BatchReport
from tests.support.writing import T0, RestartableProxy, count, seed_contracts

Row = tuple[Any, ...]


@pytest.fixture
async def db(migrated_url: URL, clean_db: object) -> AsyncIterator[Database]:
    async with Database.from_url(migrated_url) as database:
        yield database


async def _stored(db: Database) -> set[tuple[int, Any]]:
    async with db.raw() as conn:
        rows = await conn.fetch("SELECT contract_id, time FROM market_data_ticks")
    return {(r["contract_id"], r["time"]) for r in rows}


async def test_inline_validation_reports_findings_and_the_rows_are_still_written(
    db: Database,
) -> None:
    _, (cid, other, *_) = await seed_contracts(db)
    clean = [
        OptionTick(c, T0 + timedelta(seconds=i), 1.00, 1.10, 1.05, 10, 12, volume=100 + i)
        for c in (cid, other)
        for i in range(20)
    ]
    crossed = OptionTick(cid, T0 + timedelta(seconds=30), 1.20, 1.10, 1.15, 10, 12, volume=200)
    reports: list[BatchReport] = []
    hook = InlineValidationHook(DataValidator(db), enabled=True, on_findings=reports.append)
    async with TickWriter(db, interval=3600, before_write=hook.check) as writer:
        await writer.put_many([*clean[:25], crossed, *clean[25:]])
        assert await writer.flush() == 41
    assert writer.counts.written == 41 and writer.counts.rejected == 0
    assert await count(db, "market_data_ticks") == 41  # the crossed quote is stored too
    assert hook.reports == 1 and hook.checked == 41  # one flush, every row once
    assert hook.rule_failures == {"price_sanity": 1}  # the crossed quote, nothing else
    assert reports == [hook.last_report]
    (finding,) = [f for f in reports[0].findings if f.rule == "price_sanity"]
    assert (finding.contract_id, finding.time) == (cid, crossed.time)
    assert hook.terms[cid].right == "C"  # terms loaded from the database


async def test_before_write_sees_each_row_once_before_it_is_written(db: Database) -> None:
    _, ids = await seed_contracts(db, n=4)
    seen: list[Row] = []
    calls = 0

    async def before_write(rows: Sequence[Row]) -> None:
        nonlocal calls
        calls += 1
        stored = await _stored(db)
        assert not any((r[0], r[1]) in stored for r in rows)  # not written yet
        seen.extend(rows)
        await asyncio.sleep(0.005)  # producers keep putting rows meanwhile

    writer = TickWriter(
        db, batch_size=50, interval=0.01, chunk_rows=40, max_pending=120,
        before_write=before_write,
    )  # fmt: skip

    async def produce(cid: int) -> None:
        for i in range(300):
            await writer.put(OptionTick(cid, T0 + timedelta(milliseconds=10 * i), 1.0, 1.1))
            if i % 7 == 0:
                await asyncio.sleep(0)

    await asyncio.gather(*(produce(c) for c in ids))
    await writer.close()
    assert writer.counts.written == 1200 == len(seen)
    assert {(r[0], r[1]) for r in seen} == await _stored(db)
    assert calls < 1200 / 40  # batches, not rows


async def test_a_failing_before_write_does_not_stop_the_write(db: Database) -> None:
    _, (cid, *_) = await seed_contracts(db)

    async def broken(rows: Sequence[Row]) -> None:
        raise RuntimeError("validator crashed")

    async with TickWriter(db, interval=3600, before_write=broken) as writer:
        await writer.put_many(
            OptionTick(cid, T0 + timedelta(seconds=i), 1.0, 1.1) for i in range(5)
        )
        assert await writer.flush() == 5
    assert writer.counts.last_error is not None and "validator crashed" in writer.counts.last_error
    assert await count(db, "market_data_ticks") == 5


async def test_rows_requeued_after_an_outage_are_not_shown_twice(
    db: Database, migrated_url: URL
) -> None:
    _, (cid, *_) = await seed_contracts(db)
    proxy = RestartableProxy(migrated_url)
    port = await proxy.start()
    proxied = migrated_url.set(host="127.0.0.1", port=port, query={})
    seen: list[Row] = []

    async def before_write(rows: Sequence[Row]) -> None:
        seen.extend(rows)

    writer = TickWriter(Database.from_url(proxied, pool_pre_ping=False), interval=3600,
                        before_write=before_write)  # fmt: skip
    rows = [OptionTick(cid, T0 + timedelta(seconds=i), 1.0, 1.1) for i in range(30)]
    try:
        await writer.put_many(rows[:10])
        assert await writer.flush() == 10
        await proxy.sever()
        await writer.put_many(rows[10:20])
        with pytest.raises(RowsNotWrittenError):
            await writer.flush()
        await proxy.start(port)
        await writer.put_many(rows[20:])
        await writer.close()
        assert writer.counts.written == 30
        assert sorted(seen) == sorted(rows)
    finally:
        await writer.db.close()
        await proxy.sever()
