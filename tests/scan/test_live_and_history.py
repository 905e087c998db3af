"""The same quotes scanned two ways give the same findings: the historical replay
(``run_scan`` over ``ArrowReader.replay``) and a live consumer reading each instant's
``chain_snapshot``; the findings land in the documented tables under a backtest run."""

from __future__ import annotations

import json

import pytest

from alc_data import Database
from alc_data.errors import DataError
from alc_data.repositories import Repositories
from alc_data.scan import EpisodeTracker, FeeModel, ScanConfig, Scanner, run_scan
from tests.support.scanning import AS_OF, STEP, seed_chain

CONFIG = ScanConfig(fees=FeeModel(per_contract=0.65, per_share=0.005), min_edge=0.5)


async def test_live_and_historical_paths_find_the_same(db: Database) -> None:
    await seed_chain(db)
    start, end = AS_OF, AS_OF + 4 * STEP
    run = await run_scan(db, ["SPY"], start=start, end=end, config=CONFIG, every=STEP)
    scanner, tracker, live = Scanner(CONFIG), EpisodeTracker(), []
    for k in range(4):
        async with db.session() as session:
            snap = await Repositories(session).chains.chain_snapshot("SPY", as_of=AS_OF + k * STEP)
        live.extend(tracker.feed(scanner.scan(snap)))
    live.extend(tracker.finish())

    def shape(findings: list) -> list:  # type: ignore[type-arg]
        return sorted((f.kind, f.key[1], f.first_seen, round(f.edge, 6)) for f in findings)

    assert shape(run.findings) == shape(live)
    # the replay skips an instant without a new tick (the fourth): the calendar's last state
    assert sorted((f.kind, f.states) for f in run.findings) == [("calendar", 1), ("conversion", 2)]
    assert sorted((f.kind, f.states) for f in live) == [("calendar", 2), ("conversion", 2)]
    async with db.raw() as conn:
        rows = await conn.fetch(
            "SELECT strategy_type, theoretical_profit, call_contract_id, put_contract_id, "
            "details->>'backtest_run_id' AS run, execution_window_ms, discovered_by "
            "FROM arbitrage_opportunities ORDER BY strategy_type"
        )
        status = await conn.fetchrow("SELECT * FROM backtest_runs")
    assert [r["strategy_type"] for r in rows] == ["CALENDAR", "CONVERSION"]
    assert {r["run"] for r in rows} == {str(run.run_id)} == {str(status["run_id"])}
    assert rows[1]["execution_window_ms"] == 1000 and rows[1]["put_contract_id"] is not None
    conversion = next(f for f in run.findings if f.kind == "conversion")
    assert rows[1]["theoretical_profit"] == pytest.approx(conversion.edge)
    assert status["status"] == "COMPLETED" and status["total_trades"] == 2
    assert status["total_profit"] == pytest.approx(run.total_edge())
    assert json.loads(status["parameters"])["min_edge"] == 0.5


async def test_a_failed_replay_marks_the_run_failed(db: Database) -> None:
    await seed_chain(db)
    with pytest.raises(DataError):
        await run_scan(db, ["SPY", "NOPE"], start=AS_OF, end=AS_OF + STEP, config=CONFIG)
    async with db.raw() as conn:
        status = await conn.fetchrow("SELECT status, error_message FROM backtest_runs")
        found = await conn.fetchval("SELECT count(*) FROM arbitrage_opportunities")
    assert status["status"] == "FAILED" and "NOPE" in status["error_message"]
    assert found == 0
