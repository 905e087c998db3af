"""Plotly figures from the sections' data (pure: data in, figure out; None when empty)."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

import plotly.graph_objects as go
from plotly.subplots import make_subplots

#: Shaded intervals drawn at most (beyond that the chart says how many were left out).
MAX_SHAPES = 200
_WINDOW_COLOURS = {"live ticks": "rgba(40,160,70,0.18)", "history bars": "rgba(60,110,220,0.15)"}
_LAYOUT = {"template": "plotly_white", "margin": {"l": 60, "r": 20, "t": 50, "b": 40}}


def _label(iso: str) -> str:
    return iso[5:16].replace("T", " ")


def coverage_figure(section: dict[str, Any]) -> go.Figure | None:
    """One heatmap per expiry (facets): strike x time, colour = share quoted."""
    if not section["rows"]:
        return None
    columns = sorted({r["bucket"] for r in section["rows"]})
    by_expiry: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in section["rows"]:
        by_expiry[r["expiry"]].append(r)
    expiries = sorted(by_expiry)
    # Each facet as tall as its strikes need (a one-strike expiry is a thin band).
    heights = [max(60, 16 * len({r["strike"] for r in by_expiry[e]})) for e in expiries]
    fig = make_subplots(
        rows=len(expiries),
        cols=1,
        shared_xaxes=True,
        vertical_spacing=min(0.04, 0.5 / len(expiries)),
        row_heights=heights,
        subplot_titles=[f"expiry {e}" for e in expiries],
    )
    for i, expiry in enumerate(expiries, start=1):
        rows = by_expiry[expiry]
        strikes = sorted({r["strike"] for r in rows})
        cell = {(r["strike"], r["bucket"]): r["share"] for r in rows}
        fig.add_trace(
            go.Heatmap(
                x=[_label(c) for c in columns],
                y=[f"{k:g}" for k in strikes],
                z=[[cell.get((k, c)) for c in columns] for k in strikes],
                zmin=0,
                zmax=1,
                colorscale="Viridis",
                showscale=i == 1,
                name=expiry,
                colorbar={"title": {"text": "quoted"}, "tickformat": ".0%"},
                hovertemplate="strike %{y}<br>%{x}<br>%{z:.0%} of minutes two-sided<extra></extra>",
            ),
            row=i,
            col=1,
        )
        fig.update_yaxes(title_text="strike", type="category", row=i, col=1)
    fig.update_xaxes(type="category", nticks=12)
    fig.update_layout(
        height=max(320, 120 + sum(heights) + 30 * len(expiries)),
        **_LAYOUT,
        title=f"Share of sampled minutes with a two-sided quote "
        f"({section['bucket_minutes']:g}-minute columns)",
    )
    return fig


def smile_figure(section: dict[str, Any]) -> go.Figure | None:
    """IV vs strike, one panel per expiry, a line per instant and right."""
    if not section["smile"]:
        return None
    expiries = sorted({r["expiry"] for r in section["smile"]})
    cols = min(3, len(expiries))
    rows = -(-len(expiries) // cols)
    fig = make_subplots(rows=rows, cols=cols, subplot_titles=[f"expiry {e}" for e in expiries])
    series: dict[tuple[str, str, str], list[dict[str, Any]]] = defaultdict(list)
    for r in section["smile"]:
        series[(r["expiry"], r["at"], r["right"])].append(r)
    shown: set[tuple[str, str]] = set()
    for (expiry, at, right), points in sorted(series.items()):
        index = expiries.index(expiry)
        name = f"{_label(at)} {'calls' if right == 'C' else 'puts'}"
        fig.add_trace(
            go.Scatter(
                x=[p["strike"] for p in points],
                y=[p["iv"] for p in points],
                mode="lines+markers",
                name=name,
                legendgroup=name,
                showlegend=(at, right) not in shown,
                line={"dash": "solid" if right == "C" else "dot"},
                customdata=[p["delta"] for p in points],
                hovertemplate="strike %{x}<br>IV %{y:.1%}<br>delta %{customdata:.2f}"
                "<extra></extra>",
            ),
            row=index // cols + 1,
            col=index % cols + 1,
        )
        shown.add((at, right))
    fig.update_yaxes(tickformat=".0%")
    fig.update_layout(height=320 * rows, title="Volatility smile (IV vs strike)", **_LAYOUT)
    return fig


def term_figure(section: dict[str, Any]) -> go.Figure | None:
    """ATM IV vs days to expiry, a line per instant."""
    if not section["term"]:
        return None
    fig = go.Figure()
    by_at: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in section["term"]:
        by_at[r["at"]].append(r)
    for at, points in sorted(by_at.items()):
        fig.add_trace(
            go.Scatter(
                x=[p["days"] for p in points],
                y=[p["atm_iv"] for p in points],
                mode="lines+markers",
                name=_label(at),
            )
        )
    fig.update_layout(
        title="Term structure (ATM IV vs days to expiry)",
        height=340,
        xaxis_title="days to expiry",
        yaxis_tickformat=".0%",
        **_LAYOUT,
    )
    return fig


def spread_figure(section: dict[str, Any]) -> go.Figure | None:
    """Median relative spread per moneyness bin, per kind of data and right."""
    if not section["rows"]:
        return None
    fig = go.Figure()
    series: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for r in section["rows"]:
        series[(r["kind"], r["right"])].append(r)
    for (kind, right), points in sorted(series.items()):
        fig.add_trace(
            go.Scatter(
                x=[p["moneyness"] for p in points],
                y=[p["median_spread"] for p in points],
                mode="lines+markers",
                name=f"{kind}, {'calls' if right == 'C' else 'puts'}",
                customdata=[[p["p90_spread"], p["quotes"]] for p in points],
                hovertemplate="K/S %{x:.2f}<br>median %{y:.1%}<br>p90 %{customdata[0]:.1%}"
                "<br>%{customdata[1]} quotes<extra></extra>",
            )
        )
    fig.update_layout(
        title="Spread (ask - bid) / mid vs moneyness (strike / underlying)",
        height=360,
        xaxis_title="strike / underlying",
        yaxis_tickformat=".0%",
        **_LAYOUT,
    )
    return fig


def price_figure(section: dict[str, Any]) -> go.Figure | None:
    """The price path, collection windows shaded per kind, gaps shaded red."""
    if not section["path"] and not section["windows"]:
        return None
    fig = go.Figure()
    series: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in section["path"]:
        series[r["series"]].append(r)
    step = timedelta(minutes=section.get("bucket_minutes", 1))
    for name, points in sorted(series.items()):
        xs, ys = broken_line([(p["bucket"], p["price"]) for p in points], 2 * step)
        fig.add_trace(go.Scatter(x=xs, y=ys, mode="lines", name=name, connectgaps=False))
    shapes = [
        (w["start"], w["end"], _WINDOW_COLOURS.get(w["kind"], "rgba(0,0,0,0.1)"))
        for w in section["windows"]
    ]
    shapes += [(g["start"], g["end"], "rgba(220,40,40,0.3)") for g in section["gaps"]]
    for x0, x1, colour in shapes[:MAX_SHAPES]:
        fig.add_vrect(x0=x0, x1=x1, fillcolor=colour, line_width=0, layer="below")
    left_out = len(shapes) - MAX_SHAPES
    note = f" ({left_out} shaded intervals not drawn)" if left_out > 0 else ""
    fig.update_layout(
        title="Underlying price; green: live collection, blue: history bars, red: in-session "
        f"gaps > {section['gap_seconds']:g} s{note}",
        height=380,
        **_LAYOUT,
    )
    return fig


def broken_line(
    points: list[tuple[str, float | None]], longer_than: timedelta
) -> tuple[list[str | None], list[float | None]]:
    """x and y with a break (None) wherever consecutive points are further apart than
    ``longer_than``: no line drawn across a night or a pause in collection."""
    xs: list[str | None] = []
    ys: list[float | None] = []
    previous: datetime | None = None
    for x, y in points:
        at = datetime.fromisoformat(x)
        if previous is not None and at - previous > longer_than:
            xs.append(None)
            ys.append(None)
        xs.append(x)
        ys.append(y)
        previous = at
    return xs, ys


def stacked_bars(rows: list[dict[str, Any]], x: str, group: str, y: str, title: str) -> go.Figure:
    """Bars of ``y`` over ``x``, stacked by ``group``."""
    fig = go.Figure()
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        groups[str(r[group])].append(r)
    for name, points in sorted(groups.items()):
        fig.add_trace(go.Bar(x=[p[x] for p in points], y=[p[y] for p in points], name=name))
    fig.update_layout(barmode="stack", title=title, height=340, **_LAYOUT)
    return fig


def findings_figure(section: dict[str, Any]) -> go.Figure | None:
    """Quality findings (flagged contracts) per bucket, stacked by rule."""
    if not section["rows"]:
        return None
    return stacked_bars(
        section["rows"],
        "bucket",
        "rule",
        "findings",
        "Quality findings by rule (contracts flagged per run bucket)",
    )


def history_figure(section: dict[str, Any]) -> go.Figure | None:
    """History requests per trading day, stacked by status."""
    if not section["rows"]:
        return None
    return stacked_bars(
        section["rows"],
        "trading_day",
        "status",
        "requests",
        "History requests per trading day, by status",
    )


def scans_figure(section: dict[str, Any]) -> go.Figure | None:
    """Opportunities found per day, stacked by kind."""
    if not section["by_day"]:
        return None
    return stacked_bars(
        section["by_day"],
        "day",
        "strategy_type",
        "found",
        "Arbitrage opportunities found per day, by kind",
    )
