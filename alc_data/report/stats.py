"""``alc-data stats``: per underlying, what is stored and over which period."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from alc_data.db.sources import describe_sources, render_sources
from alc_data.db.translate import translated

_PER_UNDERLYING = text(
    """
SELECT u.id, u.symbol, u.sec_type,
       (SELECT count(*) FROM option_chains c WHERE c.underlying_id = u.id) AS contracts,
       (SELECT count(*) FROM option_chains c
         WHERE c.underlying_id = u.id AND c.expiration_date < CURRENT_DATE) AS expired_contracts,
       t.option_ticks, t.first_tick, t.last_tick,
       (SELECT count(*) FROM stock_data_ticks s WHERE s.underlying_id = u.id) AS stock_ticks,
       (SELECT count(*) FROM option_bars b JOIN option_chains c ON c.id = b.contract_id
         WHERE c.underlying_id = u.id) AS option_bars,
       (SELECT count(*) FROM stock_bars b WHERE b.underlying_id = u.id) AS stock_bars,
       (SELECT count(*) FROM arbitrage_opportunities o
         WHERE o.underlying_id = u.id) AS opportunities
FROM underlying_securities u
LEFT JOIN LATERAL (
    SELECT count(*) AS option_ticks, min(m.time) AS first_tick, max(m.time) AS last_tick
    FROM market_data_ticks m JOIN option_chains c ON c.id = m.contract_id
    WHERE c.underlying_id = u.id
) t ON true
ORDER BY u.symbol
"""
)

_QUALITY_RUNS = text(
    """
SELECT run_id::text AS run_id, check_timestamp, passed,
       details #> '{report,price_data_coverage}' AS coverage
FROM data_quality_metrics WHERE metric_type = 'quality_run'
ORDER BY check_timestamp DESC LIMIT 5
"""
)


@translated
async def data_stats(conn: AsyncConnection) -> dict[str, Any]:
    """Counts per underlying plus the latest quality runs, JSON-ready."""
    underlyings = [_plain(dict(r._mapping)) for r in await conn.execute(_PER_UNDERLYING)]
    runs = [_plain(dict(r._mapping)) for r in await conn.execute(_QUALITY_RUNS)]
    totals = {
        key: sum(u[key] or 0 for u in underlyings)
        for key in ("contracts", "option_ticks", "stock_ticks", "option_bars", "stock_bars",
                    "opportunities")
    }  # fmt: skip
    sources = await describe_sources(conn)
    return {"underlyings": underlyings, "totals": totals, "quality_runs": runs, "sources": sources}


def _plain(row: dict[str, Any]) -> dict[str, Any]:
    return {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in row.items()}


def render_stats(stats: dict[str, Any]) -> str:
    """The stats as a terminal table."""
    head = (
        f"{'symbol':<8} {'type':<4} {'contracts':>9} {'expired':>7} {'opt ticks':>11} "
        f"{'stk ticks':>10} {'opt bars':>10} {'stk bars':>9} {'opps':>6}  last tick"
    )
    lines = [head, "-" * len(head)]
    for u in stats["underlyings"]:
        lines.append(
            f"{u['symbol']:<8} {u['sec_type']:<4} {u['contracts']:>9} {u['expired_contracts']:>7} "
            f"{u['option_ticks']:>11} {u['stock_ticks']:>10} {u['option_bars']:>10} "
            f"{u['stock_bars']:>9} {u['opportunities']:>6}  {u['last_tick'] or '-'}"
        )
    t = stats["totals"]
    lines.append(
        f"{'total':<13} {t['contracts']:>9} {'':>7} {t['option_ticks']:>11} {t['stock_ticks']:>10} "
        f"{t['option_bars']:>10} {t['stock_bars']:>9} {t['opportunities']:>6}"
    )
    if stats.get("sources"):
        lines.append("")
        lines.extend(render_sources(stats["sources"]))
    if stats["quality_runs"]:
        last = stats["quality_runs"][0]
        lines.append(
            f"\nlast quality run {last['check_timestamp']}: coverage {last['coverage']}%, "
            f"{'passed' if last['passed'] else 'FAILED'}"
        )
    return "\n".join(lines)
