"""Each section of the report on a market with known content (tests/support/report_market)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from alc_data.errors import AmbiguousSourceError
from alc_data.report import build_report
from tests.support.report_market import BARS_AT, DAY, E1, E2, END, START, TICKS_AT, seed


@pytest.fixture
async def known(clean_db: AsyncEngine) -> tuple[AsyncEngine, dict[str, Any], dict[str, Any]]:
    async with clean_db.begin() as conn:
        ids = await seed(conn)
    async with clean_db.connect() as conn:
        report = await build_report(conn, start=START, end=END, source="sim-a")
    return clean_db, ids, report


def _xyz(report: dict[str, Any]) -> dict[str, Any]:
    (u,) = report["underlyings"]
    assert u["symbol"] == "XYZ"
    section: dict[str, Any] = u
    return section


async def test_holdings_per_source_equal_sql_counts(known: Any) -> None:
    engine, _, report = known
    rows = {r["source"]: r for r in report["holdings"]["rows"]}
    assert set(rows) == {"sim-a", "sim-b"}
    async with engine.connect() as conn:
        for name, row in rows.items():
            sql = await conn.execute(
                text(
                    "SELECT count(*), count(DISTINCT contract_id), min(time), max(time) "
                    "FROM market_data_ticks m JOIN data_sources s ON s.id = m.source_id "
                    "WHERE s.name = :n"
                ),
                {"n": name},
            )
            ticks, contracts, first, last = sql.one()
            assert (row["option_ticks"], row["tick_contracts"]) == (ticks, contracts)
            assert (row["first_tick"], row["last_tick"]) == (first.isoformat(), last.isoformat())
    a = rows["sim-a"]
    assert (a["option_ticks"], a["option_bars"], a["bar_contracts"]) == (80, 40, 4)
    assert (a["stock_ticks"], a["stock_bars"], a["listed_contracts"]) == (20, 10, 8)
    assert (rows["sim-b"]["option_ticks"], rows["sim-b"]["option_bars"]) == (3, 0)
    assert report["source"] == "sim-a"


async def test_coverage_is_share_of_sampled_minutes_two_sided(known: Any) -> None:
    _, _, report = known
    cov = _xyz(report)["coverage"]
    assert cov["bucket_minutes"] == 5  # 8 hours: 96 five-minute columns
    cells = {(r["expiry"], r["strike"], r["bucket"][11:16]): r for r in cov["rows"]}
    # Columns only where something was collected: 14:30, 14:35 (ticks), 15:00, 15:05 (bars).
    assert {k[2] for k in cells} == {"14:30", "14:35", "15:00", "15:05"}
    assert len(cells) == 2 * 2 * 4
    e1, e2 = E1.isoformat(), E2.isoformat()
    share = {k: (c["quoted"], c["sampled"], c["share"]) for k, c in cells.items()}
    assert share[(e1, 100, "14:30")] == (10, 10, 1.0)
    assert share[(e1, 105, "14:30")] == (10, 10, 1.0)
    assert share[(e1, 105, "14:35")] == (5, 10, 0.5)  # the put lost its bid at 14:35
    assert share[(e1, 100, "15:00")] == (0, 10, 0.0)  # collected, but not this strike
    assert share[(e2, 105, "15:05")] == (10, 10, 1.0)  # two 5-minute spans of 1-min bars
    assert share[(e2, 100, "14:30")] == (0, 10, 0.0)


async def test_smile_and_term_structure_at_the_last_iv_tick(known: Any) -> None:
    _, _, report = known
    vol = _xyz(report)["volatility"]
    last = (TICKS_AT + timedelta(seconds=30 * 19)).isoformat()
    assert vol["instants"] == [last]
    smile = {(r["right"], r["strike"]): r["iv"] for r in vol["smile"]}
    assert smile == {("C", 100): 0.20, ("C", 105): 0.22, ("P", 100): 0.25, ("P", 105): 0.27}
    assert {r["expiry"] for r in vol["smile"]} == {E1.isoformat()}  # E2 has bars only: no IV
    (term,) = vol["term"]
    assert (term["expiry"], term["days"], term["strike"]) == (E1.isoformat(), 3, 100)
    assert term["atm_iv"] == pytest.approx((0.20 + 0.25) / 2)


async def test_smile_at_a_chosen_instant(known: Any) -> None:
    engine, _, _ = known
    at = TICKS_AT + timedelta(minutes=2)
    async with engine.connect() as conn:
        report = await build_report(conn, start=START, end=END, source="sim-a", instants=[at])
        expected = await conn.execute(
            text(
                "SELECT DISTINCT ON (contract_id) contract_id, time FROM market_data_ticks "
                "WHERE source_id = (SELECT id FROM data_sources WHERE name = 'sim-a') "
                "AND time <= :at AND implied_volatility IS NOT NULL "
                "ORDER BY contract_id, time DESC"
            ),
            {"at": at},
        )
        times = sorted(r.time.isoformat() for r in expected)
    smile = _xyz(report)["volatility"]["smile"]
    assert sorted(r["time"] for r in smile) == times
    assert {r["time"] for r in smile} == {at.isoformat()}


async def test_spread_vs_moneyness_from_ticks_and_bars(known: Any) -> None:
    _, _, report = known
    rows = {(r["kind"], r["right"], r["moneyness"]): r for r in _xyz(report)["spreads"]["rows"]}
    assert set(rows) == {
        ("live ticks", "C", 0.98), ("live ticks", "P", 0.98),
        ("live ticks", "C", 1.02), ("live ticks", "P", 1.02),
        ("history bars", "C", 0.96), ("history bars", "P", 0.96),
        ("history bars", "C", 0.97), ("history bars", "P", 0.97),
        ("history bars", "C", 1.01), ("history bars", "P", 1.01),
    }  # fmt: skip
    # Bars: K / S with S = 103 + j/10; 100 / 103 is the only 0.97, 100 / 103.1 on fall in 0.96.
    assert rows[("history bars", "P", 0.97)]["quotes"] == 1
    assert rows[("history bars", "P", 0.96)]["quotes"] == 9
    assert rows[("live ticks", "C", 0.98)]["median_spread"] == pytest.approx(0.2 / 3.1)
    assert rows[("live ticks", "P", 1.02)]["quotes"] == 10  # the one-sided half is left out
    assert rows[("live ticks", "P", 1.02)]["p90_spread"] == pytest.approx(0.4 / 3.7)
    assert rows[("history bars", "C", 1.01)]["median_spread"] == pytest.approx(0.1 / 1.05)
    assert rows[("history bars", "C", 1.01)]["quotes"] == 10


async def test_price_path_windows_and_gaps(known: Any) -> None:
    _, _, report = known
    pp = _xyz(report)["price_path"]
    path = {(r["series"], r["bucket"][11:16]): r["price"] for r in pp["path"]}
    assert len([k for k in path if k[0] == "live ticks"]) == 10  # 1-minute points
    assert path[("live ticks", "14:30")] == pytest.approx(102.01)  # the last of the minute
    assert path[("history bars TRADES", "15:09")] == pytest.approx(103.9)
    windows = [(w["kind"], w["start"][11:16], w["end"][11:16], w["minutes"]) for w in pp["windows"]]
    assert windows == [("history bars", "15:00", "15:10", 10), ("live ticks", "14:30", "14:40", 10)]
    gaps = [(g["start"][11:16], g["end"][11:16], g["seconds"]) for g in pp["gaps"]]
    # The session 14:30-21:00, less what was collected, in pauses longer than 300 s.
    assert gaps == [("14:40", "15:00", 1200.0), ("15:10", "21:00", 21000.0)]
    assert pp["gaps_empty"] is None


async def test_quality_history_and_scans(known: Any) -> None:
    _, _, report = known
    u = _xyz(report)
    findings = {(r["rule"], r["severity"]): r["findings"] for r in u["quality"]["rows"]}
    assert findings == {("contracts_with_gaps", "warning"): 1, ("spread_width", "warning"): 2}
    assert {r["bucket"][11:16] for r in u["quality"]["rows"]} == {"15:30"}
    history = {(r["trading_day"], r["status"]): r["requests"] for r in u["history"]["rows"]}
    day = DAY.isoformat()
    assert history == {(day, "done"): 5, (day, "empty"): 1, (day, "unavailable"): 1}
    scans = u["scans"]
    by_day = {r["strategy_type"]: r["found"] for r in scans["by_day"]}
    assert by_day == {"SFR": 2, "BOX": 1}  # the one after the window is left out
    assert [o["theoretical_profit"] for o in scans["best"]] == [12.0, 8.0, 5.0]
    assert scans["best"][0]["timestamp"] == (BARS_AT + timedelta(minutes=2)).isoformat()
    assert [(b["strategy_type"], b["total_trades"]) for b in scans["backtests"]] == [("SFR", 3)]
    assert scans["empty"] is None and scans["backtests_empty"] is None


async def test_two_sources_and_none_named_is_refused(known: Any) -> None:
    engine, _, _ = known
    async with engine.connect() as conn:
        with pytest.raises(AmbiguousSourceError):
            await build_report(conn, start=START, end=END)
        other = await build_report(conn, start=START, end=END, source="sim-b", symbol="XYZ")
    u = _xyz(other)
    assert {r["quoted"] for r in u["coverage"]["rows"]} == {1}  # 3 ticks in one minute
    assert u["history"]["rows"] == [] and "no history requests" in u["history"]["empty"]


async def test_empty_states_say_why(clean_db: AsyncEngine) -> None:
    async with clean_db.begin() as conn:
        await conn.execute(
            text("INSERT INTO underlying_securities (symbol, sec_type) VALUES ('XYZ', 'STK')")
        )
    async with clean_db.connect() as conn:
        report = await build_report(conn, start=START, end=END)
    assert report["source"] is None
    assert report["holdings"]["rows"] == []
    assert "no ticks or bars of any source" in report["holdings"]["empty"]
    u = _xyz(report)
    reasons = {
        "coverage": u["coverage"]["empty"],
        "volatility": u["volatility"]["empty"],
        "spreads": u["spreads"]["empty"],
        "price_path": u["price_path"]["empty"],
        "gaps": u["price_path"]["gaps_empty"],
        "quality": u["quality"]["empty"],
        "history": u["history"]["empty"],
        "scans": u["scans"]["empty"],
        "backtests": u["scans"]["backtests_empty"],
    }
    assert "nothing was collected or loaded" in reasons["coverage"]
    assert "history bars carry none" in reasons["volatility"]
    assert "no quality run in the window" in reasons["quality"]
    assert "scanner writes them to arbitrage_opportunities" in reasons["scans"]
    # No data at all is one gap over the whole session, not "no data".
    assert u["price_path"]["gaps"] == [
        {"start": "2026-11-17T14:30:00+00:00", "end": "2026-11-17T21:00:00+00:00",
         "seconds": 23400.0}
    ]  # fmt: skip
    assert reasons["gaps"] is None
    assert all(isinstance(r, str) and r for k, r in reasons.items() if k != "gaps")
