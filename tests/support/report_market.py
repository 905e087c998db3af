"""A small market with known content for the report's tests (every number is hand-checkable).

XYZ (a stock: session 14:30-21:00 UTC on Tuesday 2026-11-17), expiries 2026-11-20 (E1) and
2026-12-18 (E2), strikes 100 and 105, calls and puts: 8 contracts. Source ``sim-a``:

- live ticks 14:30:00-14:39:30 every 30 s on the four E1 contracts (20 each), underlying
  102; E1 P105 has no bid from 14:35 on (one-sided); IVs C100 .20, C105 .22, P100 .25,
  P105 .27; stock ticks at the same times, price 102 + i/100;
- BID_ASK 1-minute bars 15:00-15:09 on the four E2 contracts (bid 1.0, ask 1.1) and TRADES
  stock bars 15:00-15:09 closing 103 + j/10;
- history requests for 2026-11-17 (4 option done, 1 stock done, 1 empty, 1 unavailable)
  and one for 2026-11-16; a quality run at 15:30 with three findings; opportunities at
  15:01-15:03 (and one at 22:30, after the window); two backtest runs (one of XYZ).

Source ``sim-b``: three ticks on E1 C100 at 14:31.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

DAY = date(2026, 11, 17)
START = datetime(2026, 11, 17, 14, 0, tzinfo=UTC)
END = datetime(2026, 11, 17, 22, 0, tzinfo=UTC)
TICKS_AT = datetime(2026, 11, 17, 14, 30, tzinfo=UTC)
BARS_AT = datetime(2026, 11, 17, 15, 0, tzinfo=UTC)
E1, E2 = date(2026, 11, 20), date(2026, 12, 18)
#: (bid, ask, iv, delta) of the E1 contracts.
QUOTES = {
    ("C", 100): (3.0, 3.2, 0.20, 0.6),
    ("P", 100): (1.0, 1.1, 0.25, -0.4),
    ("C", 105): (0.8, 1.0, 0.22, 0.3),
    ("P", 105): (3.5, 3.9, 0.27, -0.7),
}


async def _one(conn: AsyncConnection, sql: str, **params: Any) -> Any:
    return (await conn.execute(text(sql), params)).scalar_one()


async def seed(conn: AsyncConnection) -> dict[str, Any]:
    """Insert the market; returns the ids the tests need."""
    for table in ("market_data_ticks", "stock_data_ticks", "option_bars", "stock_bars"):
        await conn.execute(
            text(f"SELECT create_partition_range('{table}', :a, :b)"), {"a": DAY, "b": DAY}
        )
    a = await _one(
        conn, "INSERT INTO data_sources (name, kind) VALUES ('sim-a', 'simulator') RETURNING id"
    )
    b = await _one(
        conn, "INSERT INTO data_sources (name, kind) VALUES ('sim-b', 'simulator') RETURNING id"
    )
    u = await _one(
        conn,
        "INSERT INTO underlying_securities (symbol, sec_type) VALUES ('XYZ', 'STK') RETURNING id",
    )
    ids: dict[tuple[date, str, int], int] = {}
    for expiry in (E1, E2):
        for right in ("C", "P"):
            for strike in (100, 105):
                ids[(expiry, right, strike)] = await _one(
                    conn,
                    "INSERT INTO option_chains (underlying_id, expiration_date, strike_price, "
                    "option_type, trading_class, contract_symbol) VALUES "
                    "(:u, :e, :k, :r, 'XYZ', :s) RETURNING id",
                    u=u,
                    e=expiry,
                    k=strike,
                    r=right,
                    s=f"XYZ {expiry} {right}{strike}",
                )
    await _ticks(conn, a, b, u, ids)
    await _bars(conn, a, u, ids)
    await _activity(conn, a, u, ids)
    return {"source_a": a, "source_b": b, "underlying": u, "contracts": ids}


async def _ticks(
    conn: AsyncConnection, a: int, b: int, u: int, ids: dict[tuple[date, str, int], int]
) -> None:
    rows = []
    for (right, strike), (bid, ask, iv, delta) in QUOTES.items():
        for i in range(20):
            at = TICKS_AT + timedelta(seconds=30 * i)
            one_sided = (right, strike) == ("P", 105) and i >= 10
            rows.append(
                {
                    "c": ids[(E1, right, strike)],
                    "t": at,
                    "s": a,
                    "b": None if one_sided else bid,
                    "a": ask,
                    "iv": iv,
                    "d": delta,
                }
            )
    rows += [
        {
            "c": ids[(E1, "C", 100)],
            "t": TICKS_AT + timedelta(minutes=1, seconds=s),
            "s": b,
            "b": 9.0,
            "a": 9.5,
            "iv": 0.9,
            "d": 0.5,
        }
        for s in (1, 2, 3)
    ]
    await conn.execute(
        text(
            "INSERT INTO market_data_ticks (contract_id, time, source_id, bid_price, ask_price, "
            "implied_volatility, delta, underlying_price) "
            "VALUES (:c, :t, :s, :b, :a, :iv, :d, 102)"
        ),
        rows,
    )
    await conn.execute(
        text(
            "INSERT INTO stock_data_ticks (underlying_id, time, source_id, price) "
            "VALUES (:u, :t, :s, :p)"
        ),
        [
            {"u": u, "t": TICKS_AT + timedelta(seconds=30 * i), "s": a, "p": 102 + i / 100}
            for i in range(20)
        ],
    )


async def _bars(
    conn: AsyncConnection, a: int, u: int, ids: dict[tuple[date, str, int], int]
) -> None:
    await conn.execute(
        text(
            "INSERT INTO option_bars (contract_id, time, source_id, bar_size, what_to_show, "
            "open, high, low, close) VALUES (:c, :t, :s, '1 min', 'BID_ASK', 1.0, 1.2, 0.9, 1.1)"
        ),
        [
            {"c": ids[(E2, r, k)], "t": BARS_AT + timedelta(minutes=j), "s": a}
            for r in ("C", "P")
            for k in (100, 105)
            for j in range(10)
        ],
    )
    await conn.execute(
        text(
            "INSERT INTO stock_bars (underlying_id, time, source_id, bar_size, what_to_show, "
            "open, high, low, close) VALUES (:u, :t, :s, '1 min', 'TRADES', :p, :p, :p, :p)"
        ),
        [
            {"u": u, "t": BARS_AT + timedelta(minutes=j), "s": a, "p": 103 + j / 10}
            for j in range(10)
        ],
    )


async def _activity(
    conn: AsyncConnection, a: int, u: int, ids: dict[tuple[date, str, int], int]
) -> None:
    requests = [
        ("option", ids[(E2, r, k)], "BID_ASK", DAY, "done", 10)
        for r in ("C", "P")
        for k in (100, 105)
    ]
    requests += [
        ("stock", u, "TRADES", DAY, "done", 10),
        ("option", ids[(E1, "P", 105)], "TRADES", DAY, "empty", 0),
        ("option", ids[(E1, "C", 105)], "TRADES", DAY, "unavailable", 0),
        ("option", ids[(E1, "C", 100)], "TRADES", DAY - timedelta(days=1), "done", 5),
    ]
    await conn.execute(
        text(
            "INSERT INTO history_requests (source_id, instrument_kind, instrument_id, "
            "what_to_show, bar_size, trading_day, status, bars) "
            "VALUES (:s, :k, :i, :w, '1 min', :d, :st, :n)"
        ),
        [
            {"s": a, "k": k, "i": i, "w": w, "d": d, "st": st, "n": n}
            for k, i, w, d, st, n in requests
        ],
    )
    run, at = uuid.uuid4(), datetime(2026, 11, 17, 15, 30, tzinfo=UTC)
    findings = [
        ("quality_run", None, None, "info", True),
        ("summary", "price_data_coverage", None, "info", True),
        ("rule_finding", "spread_width", ids[(E1, "C", 100)], "warning", False),
        ("rule_finding", "spread_width", ids[(E1, "C", 105)], "warning", False),
        ("tick_gaps", "contracts_with_gaps", ids[(E1, "P", 105)], "warning", False),
    ]
    await conn.execute(
        text(
            "INSERT INTO data_quality_metrics (check_timestamp, run_id, contract_id, "
            "metric_type, rule, severity, passed) VALUES (:t, :run, :c, :m, :r, :sev, :p)"
        ),
        [
            {"t": at, "run": run, "c": c, "m": m, "r": r, "sev": sev, "p": p}
            for m, r, c, sev, p in findings
        ],
    )
    opportunities = [("SFR", 1, 5.0), ("SFR", 2, 12.0), ("BOX", 3, 8.0), ("SFR", 450, 99.0)]
    await conn.execute(
        text(
            "INSERT INTO arbitrage_opportunities (strategy_type, underlying_id, timestamp, "
            "theoretical_profit, roi_percent, source_id) VALUES (:k, :u, :t, :p, :r, :s)"
        ),
        [
            {"k": k, "u": u, "t": BARS_AT + timedelta(minutes=m), "p": p, "r": p / 10, "s": a}
            for k, m, p in opportunities
        ],
    )
    await conn.execute(
        text(
            "INSERT INTO backtest_runs (strategy_type, start_date, end_date, symbols, status, "
            "total_trades, total_profit) VALUES "
            "('SFR', :a, :b, ARRAY['XYZ'], 'COMPLETED', 3, 25.0), "
            "('BOX', :a, :b, ARRAY['ABC'], 'COMPLETED', 1, 1.0)"
        ),
        {"a": DAY - timedelta(days=1), "b": DAY + timedelta(days=1)},
    )
