"""What is stored, per underlying and per source, over the report's window."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from alc_data.report.plain import plain_rows
from alc_data.report.window import ReportWindow

_HOLDINGS = text(
    """
WITH ot AS (
    SELECT c.underlying_id, m.source_id, count(*) AS option_ticks,
           count(DISTINCT m.contract_id) AS tick_contracts,
           min(m.time) AS first_tick, max(m.time) AS last_tick
    FROM market_data_ticks m JOIN option_chains c ON c.id = m.contract_id
    WHERE m.time > :start AND m.time <= :end GROUP BY 1, 2
), ob AS (
    SELECT c.underlying_id, b.source_id, count(*) AS option_bars,
           count(DISTINCT b.contract_id) AS bar_contracts,
           min(b.time) AS first_bar, max(b.time) AS last_bar
    FROM option_bars b JOIN option_chains c ON c.id = b.contract_id
    WHERE b.time > :start AND b.time <= :end GROUP BY 1, 2
), st AS (
    SELECT underlying_id, source_id, count(*) AS stock_ticks FROM stock_data_ticks
    WHERE time > :start AND time <= :end GROUP BY 1, 2
), sb AS (
    SELECT underlying_id, source_id, count(*) AS stock_bars FROM stock_bars
    WHERE time > :start AND time <= :end GROUP BY 1, 2
)
SELECT u.symbol, s.name AS source,
       (SELECT count(*) FROM option_chains c WHERE c.underlying_id = u.id) AS listed_contracts,
       coalesce(ot.tick_contracts, 0) AS tick_contracts,
       coalesce(ot.option_ticks, 0) AS option_ticks, ot.first_tick, ot.last_tick,
       coalesce(ob.bar_contracts, 0) AS bar_contracts,
       coalesce(ob.option_bars, 0) AS option_bars, ob.first_bar, ob.last_bar,
       coalesce(st.stock_ticks, 0) AS stock_ticks, coalesce(sb.stock_bars, 0) AS stock_bars
FROM underlying_securities u CROSS JOIN data_sources s
LEFT JOIN ot ON ot.underlying_id = u.id AND ot.source_id = s.id
LEFT JOIN ob ON ob.underlying_id = u.id AND ob.source_id = s.id
LEFT JOIN st ON st.underlying_id = u.id AND st.source_id = s.id
LEFT JOIN sb ON sb.underlying_id = u.id AND sb.source_id = s.id
WHERE (CAST(:symbol AS text) IS NULL OR u.symbol = CAST(:symbol AS text))
  AND coalesce(ot.option_ticks, ob.option_bars, st.stock_ticks, sb.stock_bars) IS NOT NULL
ORDER BY u.symbol, s.name
"""
)


async def holdings(conn: AsyncConnection, window: ReportWindow) -> dict[str, Any]:
    """Rows of (symbol, source) with counts and first/last times of each kind of data."""
    rows = plain_rows(await conn.execute(_HOLDINGS, window.params(symbol=window.symbol)))
    empty = None
    if not rows:
        empty = (
            f"no ticks or bars of any source between {window.start.isoformat()} and "
            f"{window.end.isoformat()}" + (f" for {window.symbol}" if window.symbol else "")
        )
    return {"rows": rows, "empty": empty}
