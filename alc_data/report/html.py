"""``alc-data report --html FILE``: one self-contained page a trader reads at a glance.

Read-only. :func:`build_report` gathers every section's data from SQL (aggregated there, so
a week of ticks and bars stays a few thousand points); :func:`render_html` draws them with
Plotly, whose JavaScript is inlined once, so the page opens offline.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from alc_data.db.translate import translated
from alc_data.report.activity_sql import findings, history_progress, scans
from alc_data.report.coverage_sql import coverage
from alc_data.report.holdings_sql import holdings
from alc_data.report.market_sql import price_path, spreads
from alc_data.report.page import render_html
from alc_data.report.stats import data_stats
from alc_data.report.volatility_sql import volatility
from alc_data.report.window import ReportWindow
from alc_data.repositories.quality_sql import Product, contract_ids, load_products
from alc_data.repositories.source_choice import SourceSelection, choose_source

__all__ = ["build_report", "render_html"]


@translated
async def build_report(
    conn: AsyncConnection,
    *,
    hours: float = 168,
    gap_seconds: float = 300,
    now: datetime | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    symbol: str | None = None,
    source: SourceSelection = None,
    default_source: str | None = None,
    instants: list[datetime] | None = None,
) -> dict[str, Any]:
    """Everything the report shows, as data (also what ``--json`` prints).

    The window is ``(start, end]``: ``end`` defaults to ``now`` (the clock when None),
    ``start`` to ``hours`` before ``end``. Ticks and bars are of one source: ``source``,
    else the one with option ticks or bars in the window, else ``default_source``
    (:class:`~alc_data.errors.AmbiguousSourceError` otherwise); the holdings table lists
    every source. ``instants`` are when the smiles are taken (default: the last IV tick of
    each of the latest three days).
    """
    stop = end or now or datetime.now(UTC)
    window = ReportWindow(start or stop - timedelta(hours=hours), stop, symbol=symbol)
    products = await load_products(conn, symbol)
    chosen = await choose_source(
        conn,
        tables=["market_data_ticks", "option_bars"],
        ids=await contract_ids(conn, products),
        start=window.start + timedelta(microseconds=1),
        end=window.end + timedelta(microseconds=1),
        source=source,
        default=default_source,
    )
    window = ReportWindow(window.start, window.end, chosen.id if chosen is not None else -1, symbol)
    return {
        "generated_at": datetime.now(UTC).isoformat() if now is None else now.isoformat(),
        "source": chosen.name if chosen is not None else None,
        "window": {
            "start": window.start.isoformat(),
            "end": window.end.isoformat(),
            "hours": (window.end - window.start).total_seconds() / 3600,
            "bucket_minutes": window.bucket.total_seconds() / 60,
        },
        "stats": await data_stats(conn),
        "holdings": await holdings(conn, window),
        "underlyings": [
            await _underlying(conn, window, p, gap_seconds, instants) for p in products
        ],
    }


async def _underlying(
    conn: AsyncConnection,
    window: ReportWindow,
    product: Product,
    gap_seconds: float,
    instants: list[datetime] | None,
) -> dict[str, Any]:
    u = product.underlying_id
    return {
        "symbol": product.symbol,
        "coverage": await coverage(conn, window, u),
        "volatility": await volatility(conn, window, u, instants),
        "spreads": await spreads(conn, window, u),
        "price_path": await price_path(
            conn, window, u, late_close=product.late, gap_seconds=gap_seconds
        ),
        "quality": await findings(conn, window, u),
        "history": await history_progress(conn, window, u),
        "scans": await scans(conn, window, u, product.symbol),
    }
