"""The same quotes scanned two ways give the same findings: the historical replay
(``run_scan`` over ``ArrowReader.replay``) and a live consumer reading each instant's
``chain_snapshot``; the findings land in the documented tables under a backtest run."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import text

from alc_data import Database
from alc_data.errors import DataError
from alc_data.repositories import OptionTick, Repositories, StockTick
from alc_data.scan import EpisodeTracker, FeeModel, ScanConfig, Scanner, run_scan
from tests.support.scanning import AS_OF, FAR, NEAR

CONFIG = ScanConfig(fees=FeeModel(per_contract=0.65, per_share=0.005), min_edge=0.5)
#: (expiry, strike, right) -> (bid, ask) at the three instants; the conversion at 100 lasts
#: two instants, the calendar from the third on, no box (100, 110) at any.
QUOTES = {
    (NEAR, 100, "C"): [(2.50, 2.52), (2.50, 2.52), (2.45, 2.47)],
    (NEAR, 100, "P"): [(2.40, 2.42), (2.40, 2.42), (2.46, 2.48)],
    (NEAR, 110, "C"): [(0.10, 0.12)] * 3,
    (NEAR, 110, "P"): [(10.02, 10.15)] * 3,
    (FAR, 100, "C"): [(2.60, 2.62), (2.60, 2.62), (2.30, 2.32)],
}
STEP = timedelta(seconds=1)


async def _seed(db: Database) -> int:
    async with db.session() as session:
        sql = "INSERT INTO underlying_securities (symbol) VALUES ('SPY') RETURNING id"
        uid = int((await session.execute(text(sql))).scalar_one())
        ids = {}
        for n, (expiry, strike, right) in enumerate(QUOTES):
            ids[(expiry, strike, right)] = int((await session.execute(text(
                "INSERT INTO option_chains (underlying_id, expiration_date, strike_price, "
                "option_type, trading_class, contract_symbol, ib_con_id) VALUES "
                "(:u, :e, :k, :r, 'SPY', :s, :c) RETURNING id"),
                {"u": uid, "e": expiry, "k": strike, "r": right, "s": f"SPY{n}", "c": 9000 + n},
            )).scalar_one())  # fmt: skip
        repos = Repositories(session)
        ticks = [
            OptionTick(ids[key], AS_OF + k * STEP, bid, ask, None, 10, 10)
            for key, series in QUOTES.items() for k, (bid, ask) in enumerate(series)
        ]  # fmt: skip
        await repos.ticks.add_many(ticks)
        stock = [StockTick(uid, AS_OF + k * STEP, 100.01, 100.00, 100.02, 500, 500)
                 for k in range(3)]  # fmt: skip
        await repos.stock_ticks.add_many(stock)
    return uid


async def test_live_and_historical_paths_find_the_same(db: Database) -> None:
    await _seed(db)
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
    await _seed(db)
    with pytest.raises(DataError):
        await run_scan(db, ["SPY", "NOPE"], start=AS_OF, end=AS_OF + STEP, config=CONFIG)
    async with db.raw() as conn:
        status = await conn.fetchrow("SELECT status, error_message FROM backtest_runs")
        found = await conn.fetchval("SELECT count(*) FROM arbitrage_opportunities")
    assert status["status"] == "FAILED" and "NOPE" in status["error_message"]
    assert found == 0
