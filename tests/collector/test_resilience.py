"""Faults mid-run: IB connection killed, database unreachable, contract errors, a crash."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from ib_async import IB
from sqlalchemy.engine import URL

from alc_data import Database, OptionTick, TickWriter
from alc_data.collector import OptionsDataCollector
from alc_data.collector.sink import OPTION_TABLE, RowSink
from alc_data.collector.spool import Spool
from alc_data.db import migrate
from alc_data.db.rows import OptionTick as Row
from alc_data.ib.sim import SimServer
from tests.support.collecting import collecting, small_config, table_count, until
from tests.support.db_proxy import DbProxy

pytestmark = pytest.mark.timeout(60)


async def _stored(db: Database) -> int:
    return await table_count(db, "market_data_ticks") + await table_count(db, "stock_data_ticks")


async def test_ib_connection_killed_midrun_resubscribes_and_records_the_gap(
    sim: SimServer, ib: IB, db: Database, tmp_path: Path
) -> None:
    collector = OptionsDataCollector(db, ib, small_config(tmp_path, max_contracts_per_symbol=10))
    async with collecting(collector, ["SPY"]):
        await until(lambda: collector.get_stats()["ticks_collected"] > 20)
        await sim.faults.drop_connections()
        await until(lambda: not ib.isConnected(), within=5)
        await until(lambda: collector.get_stats()["reconnects"] == 1, within=10)
        after_reconnect = collector.get_stats()["ticks_collected"]
        await until(lambda: sim.lines_in_use() == 11, within=5)  # 10 options + SPY again
        await until(lambda: collector.get_stats()["ticks_collected"] > after_reconnect + 20)
        stats = collector.get_stats()
        assert stats["connected"] and stats["lines_in_use"] == 11
    gaps = collector.get_stats()["gaps"]
    assert len(gaps) == 1 and gaps[0]["end"] and gaps[0]["reason"] == "IB connection dropped"
    async with db.raw() as conn:
        stored = await conn.fetch(
            "SELECT metric_value, details FROM data_quality_metrics "
            "WHERE metric_type = 'collector_gap'"
        )
    assert len(stored) == 1 and stored[0]["metric_value"] == pytest.approx(
        gaps[0]["seconds"], abs=1e-3
    )
    assert json.loads(stored[0]["details"])["reason"] == "IB connection dropped"
    final = collector.get_stats()
    assert final["ticks_inserted"] == final["ticks_collected"] == await _stored(db)


async def test_database_unreachable_midrun_spools_and_stores_every_row_once(
    sim: SimServer, ib: IB, db: Database, tmp_path: Path, db_proxy: DbProxy
) -> None:
    proxied = Database.from_url(await db_proxy.start(), pool_pre_ping=False)
    collector = OptionsDataCollector(
        proxied, ib, small_config(tmp_path, max_contracts_per_symbol=20)
    )
    try:
        async with collecting(collector, ["SPY"]):
            await until(lambda: collector.get_stats()["ticks_inserted"] > 50)
            await db_proxy.sever()
            await until(lambda: not collector.get_stats()["db_available"], within=5)
            await until(lambda: collector.get_stats()["spooled_rows"] > 200, within=15)
            down = collector.get_stats()
            assert down["last_error"] and down["db_outages"] == 1
            await db_proxy.start()
            await until(lambda: collector.get_stats()["db_available"], within=15)
            await until(lambda: collector.get_stats()["spooled_rows"] == 0)
            await asyncio.sleep(0.5)  # and live again
        stats = collector.get_stats()
    finally:
        await proxied.close()
        await db_proxy.sever()
    option, stock = stats["option_ticks"], stats["stock_ticks"]
    assert option["spooled"] > 0 and option["replayed"] == option["spooled"]
    assert option["shed"] == stock["shed"] == 0 and stats["spooled_rows"] == 0
    assert await table_count(db, "market_data_ticks") == option["inserted"] == option["collected"]
    assert await table_count(db, "stock_data_ticks") == stock["inserted"] == stock["collected"]
    assert stats["ticks_inserted"] == stats["ticks_collected"]
    assert not list((tmp_path / "spool").glob("*.seg"))


async def test_a_contract_error_drops_that_symbol_and_the_rest_keep_streaming(
    sim: SimServer, ib: IB, db: Database, tmp_path: Path
) -> None:
    sim.faults.deny_market_data("QQQ")  # error 354 for QQQ and its options
    collector = OptionsDataCollector(db, ib, small_config(tmp_path, max_contracts_per_symbol=5))
    async with collecting(collector, ["SPY", "QQQ"]):
        await until(lambda: collector.get_stats()["errors_by_code"].get("354", 0) >= 6)
        await until(lambda: collector.get_stats()["symbols"]["SPY"]["ticks"] > 20)
        stats = collector.get_stats()
        assert stats["symbols"]["QQQ"]["subscribed"] == 0
        assert stats["symbols"]["SPY"]["subscribed"] == 5
        assert "354" in (stats["last_error"] or "")
    assert collector.get_stats()["symbols"]["QQQ"]["ticks"] == 0


async def test_a_restart_replays_what_a_crash_left_in_the_spool_once(
    db: Database, tmp_path: Path, migrated_url: URL
) -> None:
    async with db.raw() as conn:
        uid = await conn.fetchval(
            "INSERT INTO underlying_securities (symbol) VALUES ('CRSH') RETURNING id"
        )
        cid = await conn.fetchval(
            "INSERT INTO option_chains (underlying_id, expiration_date, strike_price, "
            "option_type, trading_class, multiplier) VALUES ($1, '2030-01-18', 100, 'C', "
            "'CRSH', 100) RETURNING id",
            uid,
        )
    t0 = datetime(2030, 1, 2, 15, tzinfo=UTC)
    rows = [Row(cid, t0 + timedelta(seconds=i), 1.0 + i / 100, 1.1 + i / 100) for i in range(300)]
    crashed = Spool(tmp_path / "spool", max_bytes=10**8, segment_rows=100, run_id="crashed")
    crashed.open()
    crashed.append(OPTION_TABLE, OptionTick._fields, rows)
    with (tmp_path / "spool" / "000000000002-market_data_ticks.open").open("a") as f:
        f.write('[1, 2, "torn')  # the crash hit mid-line: ignored
    crashed._lock_file.close()  # type: ignore[union-attr]  # the process died
    async with TickWriter(db) as writer:  # rows 0-99 were committed just before the crash
        await writer.put_many(rows[:100])
    spool = Spool(tmp_path / "spool", max_bytes=10**8, run_id="restarted")
    spool.open()
    assert spool.rows == 300
    sink = RowSink(db, spool, interval=0.05, batch_size=1000)
    assert not sink.live
    await sink.step()
    await sink.close(within=2)
    assert sink.live and spool.rows == 0
    assert sink.counts(OPTION_TABLE).recovered == 300  # 200 new + 100 already stored
    assert await table_count(db, "market_data_ticks") == 300


def test_a_full_spool_sheds_new_rows_and_keeps_the_old(tmp_path: Path) -> None:
    spool = Spool(tmp_path, max_bytes=20_000, run_id="r")
    spool.open()
    t0 = datetime(2030, 1, 2, 15, tzinfo=UTC)
    batches = [
        [Row(1, t0 + timedelta(seconds=b * 100 + i), 1.0, 1.1) for i in range(50)]
        for b in range(10)
    ]
    taken = [spool.append(OPTION_TABLE, OptionTick._fields, batch).spooled for batch in batches]
    assert taken[0] == 50 and 0 in taken and spool.full
    assert spool.shed_rows == 50 * taken.count(0) and spool.size <= 20_000
    seg = spool.oldest()
    assert seg is not None and spool.read(seg).rows[0] == batches[0][0]  # the oldest are kept
    spool.close()


async def test_a_spool_follows_its_database_not_the_spelling_of_its_url(
    sim: SimServer,
    ib: IB,
    db: Database,
    tmp_path: Path,
    db_proxy: DbProxy,
    database_factory: Callable[[], URL],
    migrated_url: URL,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Rows spooled through one spelling of the database URL (a proxy's address) are replayed
    by a collector started with another (the server's own address); a collector writing to
    another database says that they wait, and leaves them alone."""
    config = small_config(tmp_path, max_contracts_per_symbol=4, spool_dir=None,
                          data_dir=tmp_path / "data", stop_timeout=0.5)  # fmt: skip
    proxied = Database.from_url(await db_proxy.start(), pool_pre_ping=False)
    first = OptionsDataCollector(proxied, ib, config)
    try:
        async with collecting(first, ["SPY"]):
            await until(lambda: first.get_stats()["ticks_inserted"] > 5)
            await db_proxy.sever()
            await until(lambda: first.get_stats()["spooled_rows"] > 20, within=15)
    finally:
        await proxied.close()
    left = first.get_stats()["spooled_rows"]
    assert left > 0  # the run ended during the outage: its rows wait in the spool

    other_url = database_factory()
    migrate.upgrade(other_url, "head")
    caplog.set_level(logging.WARNING, logger="alc_data")
    async with Database.from_url(other_url) as other:
        bystander = OptionsDataCollector(other, ib, config)
        async with collecting(bystander, ["SPY"]):
            waiting = bystander.get_stats()["waiting_spools"]
        assert bystander.get_stats()["option_ticks"]["recovered"] == 0  # not replayed there
    assert [w["rows"] for w in waiting] == [left]
    assert migrated_url.database in waiting[0]["database"]
    assert "a spool for another database is waiting" in caplog.text

    respelled = Database.from_url(migrated_url.set(host="localhost"))
    try:
        second = OptionsDataCollector(respelled, ib, config)
        async with collecting(second, ["SPY"]):
            await until(lambda: second.get_stats()["spooled_rows"] == 0)
            assert second.get_stats()["waiting_spools"] == []
        recovered = second.get_stats()["option_ticks"]["recovered"]
        recovered += second.get_stats()["stock_ticks"]["recovered"]
    finally:
        await respelled.close()
    assert recovered == left
    collected = first.get_stats()["ticks_collected"] + second.get_stats()["ticks_collected"]
    assert await _stored(db) == collected
