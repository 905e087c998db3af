"""Collector failure paths: tasks that raise, a contract that cannot be sampled, a failing
resubscription, IB that never answers, a database that hangs, and stopping by signal."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from pathlib import Path
from typing import Any

import pytest
from ib_async import IB
from sqlalchemy.engine import URL

from alc_data import Database
from alc_data.collector import OptionsDataCollector
from alc_data.errors import AlcDataError, CollectorFailedError, NaiveDatetimeError
from alc_data.ib.sim import SimServer
from tests.support.collecting import collecting, small_config, table_count, until
from tests.support.db_proxy import DbProxy

pytestmark = pytest.mark.timeout(90)


async def _stored(db: Database) -> int:
    return await table_count(db, "market_data_ticks") + await table_count(db, "stock_data_ticks")


def _accounted(stats: dict[str, Any]) -> None:
    """Every accepted row is stored, in the spool, shed or rejected: nothing else."""
    for table in ("option_ticks", "stock_ticks"):
        t = stats[table]
        left = t["spooled"] - t["replayed"]
        assert t["collected"] == t["inserted"] + left + t["shed"] + t["rejected"], (table, t)


async def test_a_sampling_loop_that_raises_is_restarted_and_counted(
    sim: SimServer, ib: IB, db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    collector = OptionsDataCollector(db, ib, small_config(tmp_path, max_contracts_per_symbol=4))
    real = collector._sample_once
    calls = {"n": 0}

    def flaky() -> None:
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("injected: the sampling loop breaks once")
        real()

    monkeypatch.setattr(collector, "_sample_once", flaky)
    async with collecting(collector, ["SPY"]):
        await until(lambda: calls["n"] > 3)  # it ran again after the failure
        before = collector.get_stats()["ticks_collected"]
        await until(lambda: collector.get_stats()["ticks_collected"] > before)  # still alive
        stats = collector.get_stats()
        assert stats["errors_by_kind"]["task:collector-sample:RuntimeError"] == 1
        assert stats["tasks"]["collector-sample"]["restarts"] == 1
        assert stats["tasks"]["collector-sample"]["state"] == "running" and stats["healthy"]
    final = collector.get_stats()
    _accounted(final)
    assert final["ticks_inserted"] == await _stored(db)


async def test_a_loop_that_keeps_failing_stops_the_collection_loudly(
    sim: SimServer, ib: IB, db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = small_config(tmp_path, max_contracts_per_symbol=4, restart_initial=0.01,
                          restart_max=0.02, give_up_after=3)  # fmt: skip
    collector = OptionsDataCollector(db, ib, config)

    async def broken() -> None:
        raise RuntimeError("injected: rediscovery always fails")

    monkeypatch.setattr(collector, "_rediscover_loop", broken)
    task = asyncio.create_task(collector.start_collection(["SPY"]))
    with pytest.raises(CollectorFailedError, match="collector-rediscover"):
        await asyncio.wait_for(task, 30)
    stats = collector.get_stats()
    assert stats["collection_active"] is False and not stats["healthy"]
    assert stats["tasks"]["collector-rediscover"]["state"] == "failed"
    assert stats["errors_by_kind"]["task:collector-rediscover:RuntimeError"] == 3
    _accounted(stats)
    assert stats["ticks_inserted"] == await _stored(db)


async def test_a_contract_that_cannot_be_sampled_is_skipped_and_counted(
    sim: SimServer, ib: IB, db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    collector = OptionsDataCollector(db, ib, small_config(tmp_path, max_contracts_per_symbol=4))
    real = collector.sampler._row
    poisoned: set[int] = set()

    def row(inst: Any, ticker: Any, wall: Any) -> Any:
        if inst.con_id in poisoned:
            raise NaiveDatetimeError("injected: a naive market-data time")
        return real(inst, ticker, wall)

    monkeypatch.setattr(collector.sampler, "_row", row)
    async with collecting(collector, ["SPY"]):
        options = [i for i in collector.sampler.instruments.values() if i.is_option]
        poisoned.add(options[0].con_id)
        await until(lambda: collector.get_stats()["errors_by_kind"].get(
            "sample:NaiveDatetimeError", 0) > 0)  # fmt: skip
        before = collector.get_stats()["ticks_collected"]
        await until(lambda: collector.get_stats()["ticks_collected"] > before + 5)
        stats = collector.get_stats()
        assert stats["tasks"]["collector-sample"]["failures"] == 0  # the loop never broke
        assert "injected" in (collector.sampler.last_error or "")
    _accounted(collector.get_stats())


async def test_a_resubscription_that_raises_is_retried(
    sim: SimServer, ib: IB, db: Database, tmp_path: Path
) -> None:
    collector = OptionsDataCollector(db, ib, small_config(tmp_path, max_contracts_per_symbol=4))
    async with collecting(collector, ["SPY"]):
        assert collector.keeper is not None
        real = collector.keeper.on_reconnected
        attempts = {"n": 0}

        async def flaky() -> None:
            attempts["n"] += 1
            if attempts["n"] == 1:
                raise RuntimeError("injected: resubscribing fails once")
            await real()

        collector.keeper.on_reconnected = flaky
        await until(lambda: collector.get_stats()["ticks_collected"] > 10)
        await sim.faults.drop_connections()
        await until(lambda: attempts["n"] >= 2, within=20)
        await until(lambda: collector.get_stats()["connected"], within=20)
        await until(lambda: sim.lines_in_use() == 5, within=10)  # resubscribed: 4 + SPY
        stats = collector.get_stats()
        assert stats["errors_by_kind"]["reconnect:resubscribe:RuntimeError"] == 1
        assert stats["reconnects"] == 1 and stats["gaps"][-1]["end"] is not None


async def test_ib_that_never_answers_discovery_is_a_clear_error(
    sim: SimServer, ib: IB, db: Database, tmp_path: Path
) -> None:
    sim.faults.stall("sec_def")
    collector = OptionsDataCollector(db, ib, small_config(tmp_path, request_timeout=0.5))
    with pytest.raises(AlcDataError, match=r"did not answer the option chains of SPY within 0\.5"):
        await asyncio.wait_for(collector.start_collection(["SPY"]), 30)


async def test_a_stop_during_a_discovery_that_hangs_returns(
    sim: SimServer, ib: IB, db: Database, tmp_path: Path
) -> None:
    sim.faults.stall("sec_def")
    collector = OptionsDataCollector(db, ib, small_config(tmp_path, request_timeout=3600))
    task = asyncio.create_task(collector.start_collection(["SPY"]))
    await until(lambda: collector.sink is not None)  # discovery has begun
    await asyncio.sleep(0.2)
    assert not task.done()
    await asyncio.wait_for(collector.stop_collection(), 20)
    await asyncio.wait_for(task, 5)  # ended without an error: it was asked to stop
    assert collector.collection_active is False


async def test_a_database_that_hangs_mid_run_is_spooled(
    sim: SimServer, ib: IB, db: Database, tmp_path: Path, db_proxy: DbProxy
) -> None:
    """The proxy stops forwarding without closing: after write_timeout the rows go to the
    spool (on disk: what a kill -9 would leave), and the status says the database is down."""
    proxied = Database.from_url(await db_proxy.start(), pool_pre_ping=False)
    config = small_config(tmp_path, max_contracts_per_symbol=10, write_timeout=0.5,
                          stop_timeout=1.0)  # fmt: skip
    collector = OptionsDataCollector(proxied, ib, config)
    try:
        async with collecting(collector, ["SPY"]):
            await until(lambda: collector.get_stats()["ticks_inserted"] > 20)
            db_proxy.stall_when(b"COPY")
            await until(lambda: not collector.get_stats()["db_available"], within=20)
            await until(lambda: collector.get_stats()["spooled_rows"] > 50, within=20)
            on_disk = sum(
                len(p.read_text().splitlines()) - 1 for p in (tmp_path / "spool").glob("*-*.*")
            )
            assert on_disk >= 50  # the rows are in files, not only in memory
            assert collector.get_stats()["errors_by_kind"]["database_unavailable"] >= 1
        stats = collector.get_stats()
    finally:
        db_proxy.resume()
        await proxied.close()
        await db_proxy.sever()
    _accounted(stats)
    assert stats["spooled_rows"] > 0  # left for the next run (the database never came back)


# the command line: signals -------------------------------------------------------------------


async def _collect_process(url: URL, tmp: Path, *argv: str) -> asyncio.subprocess.Process:
    env = {**os.environ, "ALC_DATABASE_URL": url.render_as_string(hide_password=False),
           "ALC_DATA_DIR": str(tmp / "data"), "COLLECTION_INTERVAL_MS": "100"}  # fmt: skip
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "alc_data.cli", "collect", *argv, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip


async def _wait_for_text(stream: asyncio.StreamReader, text: str, within: float) -> str:
    seen = ""
    async with asyncio.timeout(within):
        while text not in seen:
            chunk = await stream.read(256)
            if not chunk:
                break
            seen += chunk.decode(errors="replace")
    return seen


@pytest.mark.parametrize(("sig", "code"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
async def test_a_signal_stops_collect_while_ib_never_answers(
    sig: signal.Signals, code: int, sim: SimServer, migrated_url: URL, clean_db: object,
    tmp_path: Path,
) -> None:  # fmt: skip
    sim.faults.stall("sec_def")
    process = await _collect_process(migrated_url, tmp_path, "SPY", "--ib",
                                     f"127.0.0.1:{sim.port}", "--duration", "60s")  # fmt: skip
    assert process.stderr is not None
    await _wait_for_text(process.stderr, "discovering", 30)
    process.send_signal(sig)
    assert await asyncio.wait_for(process.wait(), 30) == code


async def test_sigterm_mid_collection_stores_every_accepted_row(
    sim: SimServer, migrated_url: URL, db: Database, tmp_path: Path
) -> None:
    process = await _collect_process(migrated_url, tmp_path, "SPY", "--ib",
                                     f"127.0.0.1:{sim.port}", "--max-contracts", "6",
                                     "--duration", "120s", "--json")  # fmt: skip
    for _ in range(600):
        if await _stored(db) > 20:
            break
        await asyncio.sleep(0.1)
    process.send_signal(signal.SIGTERM)
    out, _ = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 143
    stats = json.loads(out)
    _accounted(stats)
    assert stats["ticks_inserted"] == stats["ticks_collected"] == await _stored(db) > 20
