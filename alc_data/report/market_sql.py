"""Spread vs moneyness, and the underlying's price path with collection windows and gaps."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from alc_data.report.plain import plain_rows
from alc_data.report.window import ReportWindow
from alc_data.trading_sessions import sessions_between

#: Moneyness (strike / underlying) bin width of the spread chart.
MONEYNESS_STEP = 0.01

_SPREADS = text(
    """
WITH quotes AS (
    SELECT 'live ticks' AS kind, c.option_type AS "right",
           CAST(c.strike_price AS float8) / m.underlying_price AS moneyness,
           (m.ask_price - m.bid_price) / ((m.ask_price + m.bid_price) / 2) AS rel_spread
    FROM market_data_ticks m JOIN option_chains c ON c.id = m.contract_id
    WHERE c.underlying_id = :u AND m.source_id = :source AND m.time > :start AND m.time <= :end
      AND m.bid_price > 0 AND m.ask_price >= m.bid_price AND m.underlying_price > 0
    UNION ALL
    SELECT 'history bars', c.option_type, CAST(c.strike_price AS float8) / s.close,
           (b.close - b.open) / ((b.close + b.open) / 2)
    FROM option_bars b JOIN option_chains c ON c.id = b.contract_id
    CROSS JOIN LATERAL (
        SELECT sb.close FROM stock_bars sb
        WHERE sb.underlying_id = c.underlying_id AND sb.source_id = b.source_id
          AND sb.bar_size = b.bar_size AND sb.time = b.time
          AND sb.what_to_show IN ('TRADES', 'MIDPOINT') AND sb.close > 0
        ORDER BY sb.what_to_show DESC LIMIT 1
    ) s
    WHERE c.underlying_id = :u AND b.source_id = :source AND b.what_to_show = 'BID_ASK'
      AND b.time > :start AND b.time <= :end AND b.open > 0 AND b.close >= b.open
)
SELECT kind, "right", round(CAST(floor(moneyness / :step) * :step AS numeric), 4) AS moneyness,
       count(*) AS quotes,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY rel_spread) AS median_spread,
       percentile_cont(0.9) WITHIN GROUP (ORDER BY rel_spread) AS p90_spread
FROM quotes GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
"""
)

_PATH = text(
    """
SELECT 'live ticks' AS series, date_bin(:path_bucket, time, :origin) AS bucket,
       (array_agg(coalesce(price, (bid_price + ask_price) / 2) ORDER BY time DESC)
         FILTER (WHERE coalesce(price, (bid_price + ask_price) / 2) IS NOT NULL))[1] AS price
FROM stock_data_ticks
WHERE underlying_id = :u AND source_id = :source AND time > :start AND time <= :end
GROUP BY 1, 2
UNION ALL
SELECT 'history bars ' || what_to_show, date_bin(:path_bucket, time, :origin),
       (array_agg(close ORDER BY time DESC))[1]
FROM stock_bars
WHERE underlying_id = :u AND source_id = :source AND time > :start AND time <= :end
  AND what_to_show IN ('TRADES', 'MIDPOINT') AND close IS NOT NULL
GROUP BY 1, 2
ORDER BY 1, 2
"""
)

# Islands of minutes with option data: a new window starts after a pause longer than :gap.
_WINDOWS = text(
    """
WITH minutes AS (
    SELECT DISTINCT 'live ticks' AS kind, date_bin(:sample, m.time, :origin) AS t
    FROM market_data_ticks m JOIN option_chains c ON c.id = m.contract_id
    WHERE c.underlying_id = :u AND m.source_id = :source AND m.time > :start AND m.time <= :end
    UNION
    SELECT 'history bars', date_bin(:sample, b.time, :origin)
    FROM option_bars b JOIN option_chains c ON c.id = b.contract_id
    WHERE c.underlying_id = :u AND b.source_id = :source AND b.time > :start AND b.time <= :end
), marked AS (
    SELECT kind, t, CASE WHEN t - lag(t) OVER (PARTITION BY kind ORDER BY t) <= :gap
                         THEN 0 ELSE 1 END AS starts
    FROM minutes
), numbered AS (
    SELECT kind, t, sum(starts) OVER (PARTITION BY kind ORDER BY t) AS island FROM marked
)
SELECT kind, min(t) AS start, max(t) + :sample AS "end", count(*) AS minutes
FROM numbered GROUP BY kind, island ORDER BY kind, 2
"""
)


async def spreads(
    conn: AsyncConnection, window: ReportWindow, underlying_id: int
) -> dict[str, Any]:
    """Median and 90th-percentile relative spread per (kind, right, moneyness bin)."""
    params = window.params(u=underlying_id, step=MONEYNESS_STEP)
    rows = plain_rows(await conn.execute(_SPREADS, params))
    empty = None
    if not rows:
        empty = (
            "no two-sided quote with a known underlying price in the window (ticks need "
            "underlying_price; history bars need a TRADES or MIDPOINT stock bar at the same time)"
        )
    return {"rows": rows, "empty": empty, "step": MONEYNESS_STEP}


async def price_path(
    conn: AsyncConnection,
    window: ReportWindow,
    underlying_id: int,
    *,
    late_close: bool,
    gap_seconds: float,
) -> dict[str, Any]:
    """The price series, the collection windows per kind, and the in-session gaps."""
    gap = timedelta(seconds=max(gap_seconds, 60.0))
    params = window.params(u=underlying_id, path_bucket=window.path_bucket, gap=gap)
    path = plain_rows(await conn.execute(_PATH, params))
    found = (await conn.execute(_WINDOWS, params)).all()
    windows = [(r.start, r.end) for r in found]
    sessions = sessions_between(window.start, window.end, late_close)
    gaps = uncovered(sessions, windows, window.start, window.end, timedelta(seconds=gap_seconds))
    return {
        "path": path,
        "windows": plain_rows(found),
        "gaps": [
            {"start": a.isoformat(), "end": b.isoformat(), "seconds": (b - a).total_seconds()}
            for a, b in gaps
        ],
        "gap_seconds": gap_seconds,
        "bucket_minutes": window.path_bucket.total_seconds() / 60,
        "empty": None if path else "no stock ticks or TRADES/MIDPOINT stock bars in the window",
        "gaps_empty": None if gaps else f"no in-session gaps longer than {gap_seconds:g} s",
    }


def uncovered(
    sessions: list[tuple[datetime, datetime]],
    covered: list[tuple[datetime, datetime]],
    start: datetime,
    end: datetime,
    longer_than: timedelta,
) -> list[tuple[datetime, datetime]]:
    """The parts of ``sessions`` (clipped to ``(start, end]``) that no ``covered`` interval
    touches, longer than ``longer_than``."""
    spans = sorted(covered)
    out = []
    for opened, closed in sessions:
        cursor, stop = max(opened, start), min(closed, end)
        for a, b in spans:
            if b <= cursor or a >= stop:
                continue
            if a - cursor > longer_than:
                out.append((cursor, a))
            cursor = max(cursor, b)
        if stop - cursor > longer_than:
            out.append((cursor, stop))
    return out
