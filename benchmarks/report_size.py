"""Size and build time of the HTML report over a week of data.

Run: ``ALC_DATABASE_URL=... python benchmarks/report_size.py`` on an empty database (it is
migrated and filled). The week: two underlyings, 80 contracts each (4 expiries x 10 strikes x
C/P), five sessions of 1-minute BID_ASK option bars and TRADES stock bars (about 312,000 and
3,900 rows), one hour of live ticks every 5 s with IV on each contract (115,200 rows), and a
history request per contract and day. Prints a table, then as the last line one JSON object:
``page_bytes`` (the whole file), ``data_bytes`` (the file less the inlined plotly.js),
``build_s`` (the SQL of every section, after ``ANALYZE``) and ``render_s`` (Plotly to HTML).
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

from _common import SESSION_OPEN, open_database, report, trading_days
from plotly.offline import get_plotlyjs
from sqlalchemy import text

from alc_data.report import build_report, render_html

_SEED = """
WITH c AS (
    SELECT id FROM option_chains WHERE underlying_id = :u
)
INSERT INTO option_bars (contract_id, time, source_id, bar_size, what_to_show,
                         open, high, low, close)
SELECT c.id, CAST(:open AS timestamptz) + m * interval '1 minute', :s, '1 min', 'BID_ASK',
       1.0 + (c.id % 7) / 10.0, 1.3, 0.9, 1.1 + (c.id % 7) / 10.0 + (m % 5) / 100.0
FROM c CROSS JOIN generate_series(0, 389) AS m
"""


async def _seed(db: Any) -> None:
    days = trading_days(5)
    async with db.begin() as conn:
        for table in ("market_data_ticks", "stock_data_ticks", "option_bars", "stock_bars"):
            await conn.execute(
                text(f"SELECT create_partition_range('{table}', :a, :b)"),
                {"a": days[0], "b": days[-1]},
            )
        s = (await conn.execute(text(
            "INSERT INTO data_sources (name, kind) VALUES ('bench', 'simulator') RETURNING id"
        ))).scalar_one()  # fmt: skip
        for symbol, spot in (("SPY", 470.0), ("QQQ", 400.0)):
            u = (await conn.execute(text(
                "INSERT INTO underlying_securities (symbol, sec_type) VALUES (:s, 'STK') "
                "RETURNING id"), {"s": symbol})).scalar_one()  # fmt: skip
            await conn.execute(text(
                "INSERT INTO option_chains (underlying_id, expiration_date, strike_price, "
                "option_type, trading_class, contract_symbol) "
                "SELECT :u, CAST(:d AS date) + e * 7, :k + k * 5, r, CAST(:sym AS text), "
                "CAST(:sym AS text) || e || '-' || k || r "
                "FROM generate_series(1, 4) e, generate_series(-5, 4) k, "
                "unnest(ARRAY['C', 'P']) r"),
                {"u": u, "d": days[-1], "k": spot, "sym": symbol})  # fmt: skip
            for day in days:
                opened = datetime(day.year, day.month, day.day, tzinfo=UTC) + SESSION_OPEN
                await conn.execute(text(_SEED), {"u": u, "s": s, "open": opened})
                await conn.execute(text(
                    "INSERT INTO stock_bars (underlying_id, time, source_id, bar_size, "
                    "what_to_show, open, high, low, close) SELECT :u, "
                    "CAST(:open AS timestamptz) + m * interval '1 minute', :s, '1 min', 'TRADES', "
                    "CAST(:p AS float8), CAST(:p AS float8), CAST(:p AS float8), "
                    "CAST(:p AS float8) + m / 100.0 "
                    "FROM generate_series(0, 389) m"),
                    {"u": u, "s": s, "open": opened, "p": spot})  # fmt: skip
                await conn.execute(text(
                    "INSERT INTO history_requests (source_id, instrument_kind, instrument_id, "
                    "what_to_show, bar_size, trading_day, status, bars) SELECT :s, 'option', "
                    "id, 'BID_ASK', '1 min', :d, 'done', 390 FROM option_chains "
                    "WHERE underlying_id = :u"), {"s": s, "d": day, "u": u})  # fmt: skip
            live = datetime(days[-1].year, days[-1].month, days[-1].day, tzinfo=UTC)
            await conn.execute(text(
                "INSERT INTO market_data_ticks (contract_id, time, source_id, bid_price, "
                "ask_price, implied_volatility, delta, underlying_price) "
                "SELECT c.id, CAST(:t AS timestamptz) + n * interval '5 seconds', :s, 1.0, 1.1, "
                "0.15 + abs(c.strike_price - CAST(:p AS float8)) / 1000.0, 0.5, CAST(:p AS float8) "
                "FROM option_chains c CROSS JOIN generate_series(0, 719) n "
                "WHERE c.underlying_id = :u"),
                {"t": live + SESSION_OPEN + timedelta(hours=2), "s": s, "p": spot,
                 "u": u})  # fmt: skip


async def main() -> None:
    db = open_database()
    async with db:
        await _seed(db)
        async with db.engine.connect() as conn:  # what autovacuum does after a bulk load
            await (await conn.execution_options(isolation_level="AUTOCOMMIT")).execute(
                text("ANALYZE")
            )
        days = trading_days(5)
        start = datetime(days[0].year, days[0].month, days[0].day, tzinfo=UTC)
        t0 = time.perf_counter()
        async with db.connect() as conn:
            data = await build_report(conn, start=start, end=start + timedelta(days=7))
        t1 = time.perf_counter()
        page = render_html(data)
        t2 = time.perf_counter()
    with TemporaryDirectory() as tmp:
        path = Path(tmp) / "week.html"
        path.write_text(page, encoding="utf-8")
        size = path.stat().st_size
    data_bytes = size - len(get_plotlyjs().encode())
    cells = sum(len(u["coverage"]["rows"]) for u in data["underlyings"])
    result = {"page_bytes": size, "data_bytes": data_bytes, "build_s": round(t1 - t0, 2),
              "render_s": round(t2 - t1, 2), "coverage_cells": cells}  # fmt: skip
    report(
        "HTML report over a week (2 underlyings x 80 contracts)",
        [(k, v) for k, v in result.items()],
        result,
    )


if __name__ == "__main__":
    asyncio.run(main())
