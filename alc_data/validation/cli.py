"""``alc-data validate``: run a quality check and print its report.

Registered by the composition root (``alc_data/cli.py``) with :func:`register`. Exit codes:
0 when no critical rule failed, 1 when one did, 2 for configuration errors (raised as
:class:`~alc_data.errors.ConfigError` and mapped by the caller).
"""

from __future__ import annotations

import argparse
import asyncio
import json
from datetime import UTC, datetime, timedelta
from typing import Any

from alc_data.arguments import hours_arg, symbol_arg
from alc_data.config import Settings
from alc_data.db.database import Database
from alc_data.validation.compare import SourceComparison, compare_sources, render_comparison
from alc_data.validation.quality import QualityRun
from alc_data.validation.report import render_report
from alc_data.validation.validator import DataValidator

__all__ = ["register", "run_validate"]


def register(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``validate`` command to an ``argparse`` subparsers object."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "validate",
        help="check the data quality of recent ticks (exit 1 when a critical rule fails)",
        description="Run the validation rules and the quality report over the ticks of the "
        "last HOURS hours, store the findings in data_quality_metrics, and print the report.",
    )
    parser.add_argument("--hours", type=hours_arg, default=24, help="window length in hours (24)")
    parser.add_argument(
        "--symbol", type=symbol_arg, help="only this underlying's contracts (e.g. SPY)"
    )
    parser.add_argument(
        "--source",
        help="the data source to check (default: the one in the window, else ALC_DEFAULT_SOURCE)",
    )
    parser.add_argument("--json", action="store_true", help="print the report as one JSON object")
    parser.add_argument(
        "--compare",
        nargs=2,
        metavar=("SOURCE_A", "SOURCE_B"),
        help="compare two sources' mids and spreads on an as-of grid instead (contracts "
        "present in both; window: --start/--end, else the last --hours)",
    )
    parser.add_argument("--start", type=_instant, help="with --compare: from this ISO time")
    parser.add_argument("--end", type=_instant, help="with --compare: before this ISO time")
    parser.add_argument(
        "--grid", type=_positive_hours, default=1, help="with --compare: grid step in seconds (1)"
    )
    parser.set_defaults(handler=run_validate)
    return parser


def _positive_hours(value: str) -> float | int:
    try:
        hours = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {value!r}") from None
    if not 0 < hours < float("inf"):
        raise argparse.ArgumentTypeError(f"must be > 0, got {value!r}")
    return int(hours) if hours.is_integer() else hours


def _instant(value: str) -> datetime:
    try:
        at = datetime.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO time: {value!r}") from None
    if at.tzinfo is None:
        raise argparse.ArgumentTypeError(f"give a time zone (e.g. {value}+00:00)")
    return at


def run_validate(args: argparse.Namespace, settings: Settings) -> int:
    """Run the command (``settings``: built once by :func:`alc_data.cli.main`); returns the
    exit code."""
    if args.compare:
        return _run_compare(args, settings)
    run = asyncio.run(_run(settings, args.hours, args.symbol, args.source))
    if args.json:
        print(json.dumps(run.report, default=str))
    else:
        print(render_report(run.report, run_id=run.run_id, passed=run.passed))
    return 0 if run.passed else 1


def _run_compare(args: argparse.Namespace, settings: Settings) -> int:
    end = args.end or datetime.now(UTC)
    start = args.start or end - timedelta(hours=args.hours)
    result = asyncio.run(
        _compare(settings, args.compare[0], args.compare[1], start, end, args.symbol, args.grid)
    )
    print(json.dumps(result.as_json()) if args.json else render_comparison(result))
    return 0


async def _compare(
    settings: Settings,
    a: str,
    b: str,
    start: datetime,
    end: datetime,
    symbol: str | None,
    grid: float,
) -> SourceComparison:
    async with Database.from_settings(settings) as db:
        return await compare_sources(
            db, a, b, start=start, end=end, symbol=symbol, grid=timedelta(seconds=grid)
        )


async def _run(
    settings: Settings, hours: float, symbol: str | None, source: str | None
) -> QualityRun:
    async with Database.from_settings(settings) as db:
        validator = DataValidator(db, settings=settings)
        await validator.run_quality_check(hours_back=hours, symbol=symbol, source=source)
        assert validator.last_run is not None
        return validator.last_run
