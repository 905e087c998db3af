"""The spool under damage: a corrupt segment, a row that cannot be serialized, a slow disk."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import threading
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from alc_data import Database, OptionTick
from alc_data.collector.sink import OPTION_TABLE, RowSink
from alc_data.collector.spool import Spool
from tests.support.collecting import table_count

pytestmark = pytest.mark.timeout(60)
T0 = datetime(2030, 1, 2, 15, tzinfo=UTC)


@pytest.fixture
async def contract(db: Database) -> AsyncIterator[int]:
    async with db.raw() as conn:
        uid = await conn.fetchval(
            "INSERT INTO underlying_securities (symbol) VALUES ('SPL') RETURNING id"
        )
        yield int(
            await conn.fetchval(
                "INSERT INTO option_chains (underlying_id, expiration_date, strike_price, "
                "option_type, trading_class, multiplier) VALUES ($1, '2030-01-18', 100, 'C', "
                "'SPL', 100) RETURNING id",
                uid,
            )
        )


def _rows(cid: int, start: int, n: int) -> list[OptionTick]:
    return [OptionTick(cid, T0 + timedelta(seconds=start + i), 1.0, 1.1) for i in range(n)]


async def test_a_corrupt_line_quarantines_its_segment_and_the_rest_is_stored(
    db: Database, contract: int, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    directory = tmp_path / "spool"
    crashed = Spool(directory, max_bytes=10**8, segment_rows=100, run_id="crashed")
    crashed.open()
    for start in (0, 100, 200):  # three sealed segments of 100 rows
        crashed.append(OPTION_TABLE, OptionTick._fields, _rows(contract, start, 100))
    crashed.close()
    damaged = sorted(directory.glob("*.seg"))[1]
    lines = damaged.read_text().splitlines(keepends=True)
    lines[10] = '[1, "not a row\n'  # line 11 of the file: a corrupt row
    damaged.write_text("".join(lines))
    caplog.set_level(logging.ERROR)

    spool = Spool(directory, max_bytes=10**8, run_id="restarted")
    spool.open()
    sink = RowSink(db, spool, interval=0.05, batch_size=1000)
    await asyncio.wait_for(sink.step(), 20)
    await asyncio.wait_for(sink.close(within=2), 20)

    assert sink.live and spool.rows == 0
    assert sink.counts(OPTION_TABLE).recovered == 299  # everything readable
    assert await table_count(db, "market_data_ticks") == 299
    [kept] = spool.quarantined
    assert kept.path == directory / "quarantine" / damaged.name and kept.path.exists()
    assert kept.unreadable_lines == 1 and kept.replayed_rows == 99
    report = json.loads((directory / "quarantine" / (damaged.name + ".report.json")).read_text())
    assert report["unreadable_lines"] == [11]
    assert sink.errors == {"spool_segment_damaged": 1}
    assert caplog.text.count("quarantined a damaged segment") == 1
    assert "Traceback" not in caplog.text


async def test_a_damaged_header_is_quarantined_at_open(tmp_path: Path) -> None:
    directory = tmp_path / "spool"
    directory.mkdir()
    (directory / "000000000000-market_data_ticks.seg").write_text("garbage\n[1]\n")
    spool = Spool(directory, max_bytes=10**8, run_id="r")
    spool.open()
    assert len(spool) == 0 and spool.quarantined[0].path.parent.name == "quarantine"
    spool.close()


async def test_a_row_that_cannot_be_serialized_is_rejected_alone(
    db: Database, contract: int, tmp_path: Path
) -> None:
    spool = Spool(tmp_path / "spool", max_bytes=10**8, run_id="r")
    spool.open()
    sink = RowSink(db, spool, interval=0.05, batch_size=1000)
    sink._enter_outage("test: the database is down")  # rows go to the spool
    odd = OptionTick(contract, T0 - timedelta(seconds=1), 1.0, 1.1, bid_size={1, 2})  # type: ignore[arg-type]
    good = _rows(contract, 0, 20)
    sink.submit(OPTION_TABLE, [*good[:10], odd, *good[10:]])
    await sink._spool_waiting()
    counts = sink.counts(OPTION_TABLE)
    assert (counts.collected, counts.spooled, counts.rejected) == (21, 20, 1)
    assert sink.rejections[-1].row == odd and "spool" in str(sink.rejections[-1])
    sink._next_probe = 0.0
    await sink.close(within=5)  # the database is up: the spool is replayed
    assert await table_count(db, "market_data_ticks") == 20
    assert sink.counts(OPTION_TABLE).inserted == 20


async def test_spool_disk_work_runs_off_the_event_loop(
    db: Database, contract: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A slow disk (fsync takes a second) must not freeze the event loop: other tasks run
    while the spool seals a segment."""
    in_fsync = threading.Event()
    ticked_during_fsync = threading.Event()
    real_fsync = os.fsync

    def slow_fsync(fd: int) -> None:
        in_fsync.set()
        time.sleep(1.0)
        real_fsync(fd)
        in_fsync.clear()

    monkeypatch.setattr(os, "fsync", slow_fsync)
    spool = Spool(tmp_path / "spool", max_bytes=10**8, segment_rows=10, run_id="r")
    spool.open()
    sink = RowSink(db, spool, interval=0.05, batch_size=1000)
    sink._enter_outage("test: the database is down")

    async def ticker() -> None:
        while True:
            if in_fsync.is_set():
                ticked_during_fsync.set()
            await asyncio.sleep(0.01)

    running = asyncio.create_task(ticker())
    try:
        sink.submit(OPTION_TABLE, _rows(contract, 0, 10))  # fills a segment: sealed, fsynced
        await sink._spool_waiting()
    finally:
        running.cancel()
    assert spool.rows == 10  # positive control: the segment was written and sealed
    assert ticked_during_fsync.is_set()
    monkeypatch.setattr(os, "fsync", real_fsync)
    sink._next_probe = 0.0
    await sink.close(within=5)
