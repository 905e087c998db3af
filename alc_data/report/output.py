"""Writing the report page, opening it, and reading window bounds from the command line."""

from __future__ import annotations

import argparse
import webbrowser
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from alc_data.report.page import render_html


def parse_instant(value: str) -> datetime:
    """An ISO date (midnight UTC) or date-time (UTC when no offset is given), aware."""
    try:
        if len(value) == 10:
            day = date.fromisoformat(value)
            return datetime(day.year, day.month, day.day, tzinfo=UTC)
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not an ISO date or time: {value!r}") from exc
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def write_report(report: dict[str, Any], path: Path, *, open_browser: bool = False) -> Path:
    """Write the page to ``path`` (parents created); open it in a browser when asked."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_html(report), encoding="utf-8")
    if open_browser:
        webbrowser.open(path.resolve().as_uri())
    return path
