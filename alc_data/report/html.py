"""``alc-data report --html out.html``: a self-contained quality report with plots.

Read-only: it queries the database and writes one HTML file with inline SVG charts (coverage
over time per symbol, spread distribution, gappiest contracts, opportunities found) and the
tables behind them. No JavaScript, no network access when opened.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from html import escape
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from alc_data.db.translate import translated
from alc_data.report.charts import bar_chart, line_chart
from alc_data.report.stats import data_stats
from alc_data.repositories.quality_sql import Window, contract_ids, gaps, load_products
from alc_data.repositories.source_choice import SourceSelection, choose_source

_COVERAGE = text(
    """
SELECT date_trunc('hour', m.time) AS hour, u.symbol, count(*) AS ticks,
       count(*) FILTER (WHERE m.bid_price IS NOT NULL AND m.ask_price IS NOT NULL) AS two_sided
FROM market_data_ticks m
JOIN option_chains c ON c.id = m.contract_id
JOIN underlying_securities u ON u.id = c.underlying_id
WHERE m.time > :start AND m.time <= :end AND m.source_id = :source
GROUP BY 1, 2 ORDER BY 1, 2
"""
)

_SPREADS = text(
    """
SELECT width_bucket(m.bid_ask_spread / m.mid_price, 0, 0.5, 10) AS bin, count(*) AS n
FROM market_data_ticks m
WHERE m.time > :start AND m.time <= :end AND m.source_id = :source
  AND m.bid_price > 0 AND m.ask_price >= m.bid_price AND m.mid_price > 0
GROUP BY 1 ORDER BY 1
"""
)

_OPPORTUNITIES = text(
    """
SELECT date_trunc('day', o.timestamp) AS day, o.strategy_type, count(*) AS n,
       avg(o.roi_percent) AS avg_roi
FROM arbitrage_opportunities o
WHERE o.timestamp > :start AND o.timestamp <= :end
GROUP BY 1, 2 ORDER BY 1, 2
"""
)


@translated
async def build_report(
    conn: AsyncConnection,
    *,
    hours: float = 168,
    gap_seconds: float = 300,
    now: datetime | None = None,
    source: SourceSelection = None,
    default_source: str | None = None,
) -> dict[str, Any]:
    """Everything the report shows, as data (also what ``--json`` prints).

    The tick figures are of one source: ``source``, else the one with ticks in the window,
    else ``default_source`` (the command passes ``ALC_DEFAULT_SOURCE``;
    :class:`~alc_data.errors.AmbiguousSourceError` otherwise).
    Opportunities are shown whatever their source.
    """
    end = now or datetime.now(UTC)
    start = end - timedelta(hours=hours)
    products = await load_products(conn, None)
    chosen = await choose_source(
        conn,
        tables=["market_data_ticks"],
        ids=await contract_ids(conn, products),
        start=start + timedelta(microseconds=1),
        end=end + timedelta(microseconds=1),
        source=source,
        default=default_source,
    )
    source_id = chosen.id if chosen is not None else -1
    window = {"start": start, "end": end, "source": source_id}
    coverage = [dict(r._mapping) for r in await conn.execute(_COVERAGE, window)]
    spreads = {r.bin: r.n for r in await conn.execute(_SPREADS, window)}
    opportunities = [dict(r._mapping) for r in await conn.execute(_OPPORTUNITIES, window)]
    gappy = await gaps(conn, Window(start, end, source_id=source_id), products, gap_seconds)
    return {
        "generated_at": end.isoformat(),
        "source": chosen.name if chosen is not None else None,
        "window": {"start": start.isoformat(), "end": end.isoformat(), "hours": hours},
        "stats": await data_stats(conn),
        "coverage": [
            {
                "hour": r["hour"].isoformat(),
                "symbol": r["symbol"],
                "ticks": r["ticks"],
                "two_sided": r["two_sided"],
            }
            for r in coverage
        ],
        "spread_histogram": [
            {"bin": _bin_label(b), "rows": spreads.get(b, 0)} for b in range(1, 12)
        ],
        "gappy_contracts": gappy[:10],
        "opportunities": [
            {
                "day": r["day"].date().isoformat(),
                "strategy_type": r["strategy_type"],
                "count": r["n"],
                "avg_roi_percent": r["avg_roi"],
            }
            for r in opportunities
        ],
    }


def _bin_label(b: int) -> str:
    if b >= 11:
        return ">= 50%"
    return f"{(b - 1) * 5}-{b * 5}%"


def render_html(report: dict[str, Any]) -> str:
    """The report as one self-contained HTML document."""
    hours = sorted({r["hour"] for r in report["coverage"]})
    symbols = sorted({r["symbol"] for r in report["coverage"]})
    cell = {(r["hour"], r["symbol"]): r["ticks"] for r in report["coverage"]}
    coverage_svg = line_chart(
        "Option ticks per hour, per symbol",
        [h[5:13].replace("T", " ") + "h" for h in hours],
        {s: [cell.get((h, s), 0) for h in hours] for s in symbols},
    )
    spread_svg = bar_chart(
        "Spread as a share of mid (two-sided quotes)",
        [b["bin"] for b in report["spread_histogram"]],
        [b["rows"] for b in report["spread_histogram"]],
    )
    gappy = report["gappy_contracts"]
    gaps_svg = bar_chart(
        "In-session gaps per contract (top 10)",
        [str(g["contract_symbol"] or g["contract_id"]) for g in gappy],
        [g["gap_count"] for g in gappy],
    )
    days = sorted({o["day"] for o in report["opportunities"]})
    strategies = sorted({o["strategy_type"] for o in report["opportunities"]})
    found = {(o["day"], o["strategy_type"]): o["count"] for o in report["opportunities"]}
    opp_svg = line_chart(
        "Arbitrage opportunities found per day",
        days,
        {s: [found.get((d, s), 0) for d in days] for s in strategies},
    )
    stats = report["stats"]
    rows = "".join(
        f"<tr><td>{escape(u['symbol'])}</td><td>{u['contracts']}</td><td>{u['option_ticks']}</td>"
        f"<td>{u['stock_ticks']}</td><td>{u['option_bars']}</td><td>{u['stock_bars']}</td>"
        f"<td>{u['opportunities']}</td><td>{escape(str(u['last_tick'] or '-'))}</td></tr>"
        for u in stats["underlyings"]
    )
    gap_rows = "".join(
        f"<tr><td>{escape(str(g['contract_symbol'] or g['contract_id']))}</td>"
        f"<td>{g['gap_count']}</td><td>{g['longest_gap_seconds']:.0f}</td></tr>"
        for g in gappy
    )
    w = report["window"]
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>alc-data quality report</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2em; color: #222; }}
table {{ border-collapse: collapse; margin: 1em 0; }}
td, th {{ border: 1px solid #ccc; padding: 4px 8px; text-align: right; }}
th {{ background: #f4f4f4; }} td:first-child {{ text-align: left; }}
section {{ margin-bottom: 2em; }}
</style></head><body>
<h1>alc-data quality report</h1>
<p>Window {escape(w["start"])} to {escape(w["end"])} ({w["hours"]:g} h);
generated {escape(report["generated_at"])}; ticks of source
{escape(str(report.get("source") or "(none)"))}.</p>
<section id="holdings"><h2>What is stored</h2>
<table><tr><th>symbol</th><th>contracts</th><th>option ticks</th><th>stock ticks</th>
<th>option bars</th><th>stock bars</th><th>opportunities</th><th>last tick</th></tr>{rows}</table>
</section>
<section id="coverage"><h2>Coverage over time</h2>{coverage_svg}</section>
<section id="spreads"><h2>Spread distribution</h2>{spread_svg}</section>
<section id="gaps"><h2>Gaps</h2>{gaps_svg}
<table><tr><th>contract</th><th>gaps</th><th>longest (s)</th></tr>{gap_rows}</table></section>
<section id="opportunities"><h2>Opportunities found</h2>{opp_svg}</section>
</body></html>
"""
