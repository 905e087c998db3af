"""Small, dependency-free SVG charts for the self-contained HTML report.

Each function returns one ``<svg>`` element as a string (numbers escaped, labels escaped), so
the report needs no JavaScript, no network and no plotting library.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

WIDTH, HEIGHT = 760, 260
LEFT, RIGHT, TOP, BOTTOM = 60, 150, 20, 40
PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2")


def _frame(title: str, body: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" '
        f'width="{WIDTH}" height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}">'
        f"<title>{escape(title)}</title>"
        f'<rect x="0" y="0" width="{WIDTH}" height="{HEIGHT}" fill="#fff"/>{body}</svg>'
    )


def _axes(y_max: float, x_labels: Sequence[str]) -> str:
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    parts = [
        f'<line x1="{LEFT}" y1="{TOP + plot_h}" x2="{LEFT + plot_w}" y2="{TOP + plot_h}" '
        'stroke="#444"/>',
        f'<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{TOP + plot_h}" stroke="#444"/>',
    ]
    for i in range(5):
        value = y_max * i / 4
        y = TOP + plot_h - plot_h * i / 4
        parts.append(
            f'<text x="{LEFT - 6}" y="{y + 4:.1f}" font-size="10" text-anchor="end">'
            f"{_short(value)}</text>"
        )
    step = max(1, len(x_labels) // 6)
    for i in range(0, len(x_labels), step):
        x = LEFT + plot_w * (i + 0.5) / max(1, len(x_labels))
        parts.append(
            f'<text x="{x:.1f}" y="{HEIGHT - BOTTOM + 14}" font-size="10" text-anchor="middle">'
            f"{escape(x_labels[i])}</text>"
        )
    return "".join(parts)


def _short(value: float) -> str:
    if value >= 1_000_000:
        return f"{value / 1_000_000:.1f}M"
    if value >= 1_000:
        return f"{value / 1_000:.1f}k"
    return f"{value:.3g}"


def _legend(names: Sequence[str]) -> str:
    x = WIDTH - RIGHT + 12
    return "".join(
        f'<rect x="{x}" y="{TOP + 16 * i}" width="10" height="10" '
        f'fill="{PALETTE[i % len(PALETTE)]}"/>'
        f'<text x="{x + 14}" y="{TOP + 9 + 16 * i}" font-size="11">{escape(name)}</text>'
        for i, name in enumerate(names)
    )


def line_chart(title: str, x_labels: Sequence[str], series: dict[str, Sequence[float]]) -> str:
    """One line per series over shared x labels (e.g. ticks per hour per symbol)."""
    if not x_labels or not series:
        return _frame(title, _empty())
    y_max = max((max(v) for v in series.values() if v), default=0) or 1
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    body = [_axes(y_max, x_labels), _legend(list(series))]
    for i, (name, values) in enumerate(series.items()):
        points = " ".join(
            f"{LEFT + plot_w * (j + 0.5) / len(x_labels):.1f},"
            f"{TOP + plot_h - plot_h * v / y_max:.1f}"
            for j, v in enumerate(values)
        )
        body.append(
            f'<polyline fill="none" stroke="{PALETTE[i % len(PALETTE)]}" stroke-width="2" '
            f'points="{points}"><title>{escape(name)}</title></polyline>'
        )
    return _frame(title, "".join(body))


def bar_chart(title: str, labels: Sequence[str], values: Sequence[float]) -> str:
    """Vertical bars (a histogram when labels are bins)."""
    if not labels:
        return _frame(title, _empty())
    y_max = max(values) or 1
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    width = plot_w / len(labels)
    body = [_axes(y_max, labels)]
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        h = plot_h * value / y_max
        body.append(
            f'<rect class="bar" x="{LEFT + i * width + 1:.1f}" y="{TOP + plot_h - h:.1f}" '
            f'width="{max(width - 2, 1):.1f}" height="{h:.1f}" fill="{PALETTE[0]}">'
            f"<title>{escape(label)}: {value:g}</title></rect>"
        )
    return _frame(title, "".join(body))


def _empty() -> str:
    return (
        f'<text x="{WIDTH / 2}" y="{HEIGHT / 2}" font-size="14" text-anchor="middle" '
        'fill="#888">no data in this window</text>'
    )
