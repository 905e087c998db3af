"""``alc-data validate``: run a quality check and print its report.

Registered by the composition root (``alc_data/cli.py``) with :func:`register`. Exit codes:
0 when no critical rule failed, 1 when one did, 2 for configuration errors (raised as
:class:`~alc_data.errors.ConfigError` and mapped by the caller).
"""

from __future__ import annotations

import argparse
import asyncio
import json
from typing import Any

from alc_data.arguments import hours_arg, symbol_arg
from alc_data.config import Settings
from alc_data.db.database import Database
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
    parser.set_defaults(handler=run_validate)
    return parser


def run_validate(args: argparse.Namespace, settings: Settings) -> int:
    """Run the command (``settings``: built once by :func:`alc_data.cli.main`); returns the
    exit code."""
    run = asyncio.run(_run(settings, args.hours, args.symbol, args.source))
    if args.json:
        print(json.dumps(run.report, default=str))
    else:
        print(render_report(run.report, run_id=run.run_id, passed=run.passed))
    return 0 if run.passed else 1


async def _run(
    settings: Settings, hours: float, symbol: str | None, source: str | None
) -> QualityRun:
    async with Database.from_settings(settings) as db:
        validator = DataValidator(db, settings=settings)
        await validator.run_quality_check(hours_back=hours, symbol=symbol, source=source)
        assert validator.last_run is not None
        return validator.last_run
