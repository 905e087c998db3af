"""The line budget: never exceeded, fair rotation, every contract covered over time."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from ib_async import IB

from alc_data import Database
from alc_data.collector import OptionsDataCollector
from alc_data.collector.lines import LineScheduler
from alc_data.ib.sim import SimServer
from tests.support.collecting import collecting, small_config, until


@pytest.mark.timeout(180)  # first quotes of 300 contracts cost QuantLib solves
async def test_a_300_contract_universe_rotates_within_100_lines(
    sim: SimServer, ib: IB, db: Database, tmp_path: Path
) -> None:
    config = small_config(
        tmp_path, expiry_range_days=60, strike_range_percent=0.2,
        max_contracts_per_symbol=300, dwell=0.5, interval_ms=50,
    )  # fmt: skip
    collector = OptionsDataCollector(db, ib, config)
    errors: list[int] = []
    ib.errorEvent += lambda req, code, msg, contract: errors.append(code)
    peak = 0

    async def watch() -> None:
        nonlocal peak
        while True:
            peak = max(peak, sim.lines_in_use(), collector.get_stats()["lines_in_use"])
            await asyncio.sleep(0.005)

    watcher = asyncio.create_task(watch())
    try:
        async with collecting(collector, ["SPY"]):
            assert collector.get_stats()["active_contracts"] == 300
            await until(lambda: collector.get_stats()["coverage"]["covered"] == 300, within=90)
            stats = collector.get_stats()
    finally:
        watcher.cancel()
    assert peak == 100 and 101 not in errors
    assert stats["rotating"] and stats["rotations"] > 0 and stats["line_refusals"] == 0
    coverage = collector.coverage()
    assert len(coverage) == 300 and all(c["rows"] > 0 for c in coverage.values())
    async with db.raw() as conn:
        stored = await conn.fetchval("SELECT count(DISTINCT contract_id) FROM market_data_ticks")
    assert stored == 300


def test_rotation_gives_every_contract_the_same_share() -> None:
    lines: LineScheduler[int] = LineScheduler(10, dwell=1.0)
    lines.set_universe([0], range(1, 31))  # 9 lines for 30 options
    now = 0.0
    for _ in range(400):  # 100 s in 0.25 s steps
        cancel, subscribe = lines.plan(now)
        for key in cancel:
            lines.cancelled(key, now)
        for key in subscribe:
            lines.subscribed(key, now)
        assert lines.in_use() <= 10 and 0 in lines.active
        now += 0.25
    seconds = [lines.coverage[k].as_dict(now)["seconds_subscribed"] for k in range(1, 31)]
    assert max(seconds) - min(seconds) <= 1.0  # 30 s each (9/30 of 100 s), within one dwell
    assert sum(seconds) == pytest.approx(9 * 100, abs=10)


def test_refused_contracts_are_retried_later_or_dropped() -> None:
    lines: LineScheduler[int] = LineScheduler(5, dwell=1.0, retry_after=10.0)
    lines.set_universe([0], [1, 2, 3])
    _, subscribe = lines.plan(0.0)
    for key in subscribe:
        lines.subscribed(key, 0.0)
    lines.refused(1, 0.0, code=354)
    lines.refused(2, 0.0, code=200)
    assert lines.plan(5.0) == ([], [])  # 1 waits 10 s, 2 is gone
    assert lines.plan(10.0) == ([], [1])
    assert lines.dropped == {2}
