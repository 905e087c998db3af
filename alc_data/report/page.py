"""The report page: sections per underlying, Plotly charts, tables, empty states that say why.

Plotly (the Python package) writes each figure as a ``<div>`` plus a call to
``Plotly.newPlot``; plotly.js itself (about 4.7 MB) is inlined once at the top, so the file
needs no network when opened and every chart draws from the data embedded beside it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from html import escape
from typing import Any

import plotly.graph_objects as go
from plotly.offline import get_plotlyjs

from alc_data.report import figures

_STYLE = """
body { font-family: system-ui, sans-serif; margin: 1.5em 2em; color: #222; }
table { border-collapse: collapse; margin: 0.5em 0 1em; font-size: 0.9em; }
td, th { border: 1px solid #ccc; padding: 3px 7px; text-align: right; }
th { background: #f4f4f4; } td:first-child, th:first-child { text-align: left; }
section { margin-bottom: 1.5em; } h2 { border-bottom: 2px solid #ddd; padding-bottom: 0.2em; }
.empty { color: #666; font-style: italic; background: #f7f7f7; padding: 0.6em 1em; }
nav a { margin-right: 1em; }
"""

_HOLDINGS = (
    ("symbol", "symbol"),
    ("source", "source"),
    ("listed_contracts", "listed"),
    ("tick_contracts", "contracts ticked"),
    ("option_ticks", "option ticks"),
    ("first_tick", "first tick"),
    ("last_tick", "last tick"),
    ("bar_contracts", "contracts with bars"),
    ("option_bars", "option bars"),
    ("first_bar", "first bar"),
    ("last_bar", "last bar"),
    ("stock_ticks", "stock ticks"),
    ("stock_bars", "stock bars"),
)
_BEST = (
    ("timestamp", "time"),
    ("strategy_type", "kind"),
    ("expiration_date", "expiry"),
    ("call_strike", "call K"),
    ("put_strike", "put K"),
    ("theoretical_profit", "profit"),
    ("roi_percent", "ROI %"),
    ("confidence_score", "confidence"),
    ("source", "source"),
    ("discovered_by", "found by"),
)
_BACKTESTS = (
    ("created_at", "run at"),
    ("strategy_type", "strategy"),
    ("start_date", "from"),
    ("end_date", "to"),
    ("status", "status"),
    ("total_trades", "trades"),
    ("total_profit", "profit"),
    ("sharpe_ratio", "Sharpe"),
    ("win_rate", "win rate"),
    ("max_drawdown", "max drawdown"),
)
_GAPS = (("start", "from"), ("end", "to"), ("seconds", "seconds"))


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.4g}"
    return escape(str(value))


def table(rows: Sequence[dict[str, Any]], columns: Sequence[tuple[str, str]]) -> str:
    """An HTML table of ``rows`` with ``(key, heading)`` columns."""
    head = "".join(f"<th>{escape(h)}</th>" for _, h in columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{_cell(r.get(k))}</td>" for k, _ in columns) + "</tr>" for r in rows
    )
    return f"<table><tr>{head}</tr>{body}</table>"


def empty(reason: str) -> str:
    """An empty state that says why."""
    return f'<p class="empty">{escape(reason)}</p>'


def chart(fig: go.Figure, chart_id: str) -> str:
    """One figure as a div and its drawing call (plotly.js is on the page once)."""
    html: str = fig.to_html(
        full_html=False,
        include_plotlyjs=False,
        div_id=chart_id,
        config={"displaylogo": False, "responsive": True},
        default_height=f"{fig.layout.height or 400}px",
    )
    return f'<div class="chart" data-chart="{escape(chart_id)}">{html}</div>'


def _section(
    key: str,
    title: str,
    u: dict[str, Any],
    draw: Callable[[dict[str, Any]], go.Figure | None],
    extra: str = "",
) -> str:
    data = u.get(key, u)
    fig = draw(data)
    chart_id = f"{key}-{u['symbol']}"
    body = chart(fig, f"chart-{chart_id}") if fig is not None else empty(str(data.get("empty")))
    return f'<section id="{escape(chart_id)}"><h3>{escape(title)}</h3>{body}{extra}</section>'


def _underlying(u: dict[str, Any]) -> str:
    vol, path, scan = u["volatility"], u["price_path"], u["scans"]
    gaps = path["gaps"]
    gap_html = (
        f"<p>{len(gaps)} in-session gap(s) longer than {path['gap_seconds']:g} s "
        f"(longest first, up to 20):</p>"
        + table(sorted(gaps, key=lambda g: -g["seconds"])[:20], _GAPS)
        if gaps
        else empty(str(path["gaps_empty"]))
    )
    parts = [
        f'<h2 id="u-{escape(u["symbol"])}">{escape(u["symbol"])}</h2>',
        _section("coverage", "Coverage: strike x time, per expiry", u, figures.coverage_figure),
        _section(
            "smile",
            "Volatility smile",
            {"symbol": u["symbol"], "smile": vol},
            figures.smile_figure,
        ),
        _section(
            "term",
            "Term structure",
            {"symbol": u["symbol"], "term": vol},
            figures.term_figure,
        ),
        _section("spreads", "Spread vs moneyness", u, figures.spread_figure),
        _section(
            "price_path",
            "Underlying price, collection windows and gaps",
            u,
            figures.price_figure,
            gap_html,
        ),
        _section("quality", "Quality findings by rule", u, figures.findings_figure),
        _section("history", "History loading progress", u, figures.history_figure),
        _section("scans", "Scan results", u, figures.scans_figure, _scan_tables(scan)),
    ]
    return "\n".join(parts)


def _scan_tables(scan: dict[str, Any]) -> str:
    best = "<h4>Best opportunities</h4>" + table(scan["best"], _BEST) if scan["best"] else ""
    runs = (
        "<h4>Backtest runs</h4>" + table(scan["backtests"], _BACKTESTS)
        if scan["backtests"]
        else empty(str(scan["backtests_empty"]))
    )
    return best + runs


def render_html(report: dict[str, Any]) -> str:
    """The report as one self-contained HTML document (plotly.js inlined)."""
    w, hold = report["window"], report["holdings"]
    symbols = [u["symbol"] for u in report["underlyings"]]
    nav = "".join(f'<a href="#u-{escape(s)}">{escape(s)}</a>' for s in symbols)
    stored = table(hold["rows"], _HOLDINGS) if hold["rows"] else empty(str(hold["empty"]))
    body = "\n".join(_underlying(u) for u in report["underlyings"]) or empty(
        "no underlying in the database" + (" matches the symbol asked for" if symbols else "")
    )
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>alc-data report {escape(w["start"][:10])} to {escape(w["end"][:10])}</title>
<style>{_STYLE}</style>
<script type="text/javascript">{get_plotlyjs()}</script>
</head><body>
<h1>alc-data report</h1>
<p>Window {escape(w["start"])} to {escape(w["end"])} ({w["hours"]:g} h); generated
{escape(report["generated_at"])}; charts show source
<b>{escape(str(report.get("source") or "(none: no option data in the window)"))}</b>.</p>
<nav>{nav}</nav>
<section id="holdings"><h2>What is stored (every source, in the window)</h2>{stored}</section>
{body}
</body></html>
"""
