"""``alc-data scan``: scan symbols' chains over a window as a backtest run.

Registered by the composition root (``alc_data/cli.py``) with :func:`register`. Prints a
progress line per symbol (stderr), then a summary: findings by kind, the best ones, the total
theoretical edge and the run id (``--json``: one JSON object). Exit code 0; 2 for bad
arguments (a :class:`~alc_data.errors.ConfigError`).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from alc_data.arbitrage_edges import KINDS
from alc_data.config import Settings
from alc_data.db.database import Database
from alc_data.errors import ConfigError
from alc_data.scan.fees import DEFAULT_FEES, load_fees
from alc_data.scan.findings import FindingLeg
from alc_data.scan.scanner import ScanConfig

if TYPE_CHECKING:
    from alc_data.scan.runs import ScanRun

__all__ = ["register", "render_summary", "run_scan_command"]


def register(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``scan`` command to an ``argparse`` subparsers object."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "scan",
        help="scan stored chains for conversions, reversals, boxes and calendar violations",
        description="Replay each SYMBOL's chain over [--start, --end) at --every, find the "
        "arbitrages at executable prices after fees, log them in arbitrage_opportunities "
        "under one backtest_runs row, and print a summary.",
    )
    parser.add_argument(
        "symbols", nargs="+", metavar="SYMBOL", help="underlyings to scan (e.g. SPY)"
    )
    parser.add_argument("--start", required=True, type=_time, help="ISO time with a zone")
    parser.add_argument("--end", required=True, type=_time, help="ISO time with a zone")
    parser.add_argument("--source", help="the data source (default: the one in the window)")
    parser.add_argument(
        "--kinds", default=",".join(KINDS), help=f"comma-separated, of {','.join(KINDS)}"
    )
    parser.add_argument("--min-edge", type=float, default=0.0, help="dollars per unit (0)")
    parser.add_argument("--min-size", type=float, default=1.0, help="contracts (1)")
    parser.add_argument("--max-skew-ms", type=float, default=1000.0, help="leg quote skew (1000)")
    parser.add_argument("--rate", type=float, default=0.04, help="discount rate (0.04)")
    parser.add_argument("--every", default="1s", help="state cadence (1s)")
    parser.add_argument(
        "--fees",
        help="fees file (YAML/JSON, or a scenario file); default: "
        f"${DEFAULT_FEES.per_contract}/contract, ${DEFAULT_FEES.per_share}/share",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.set_defaults(handler=run_scan_command)
    return parser


def _time(text: str) -> datetime:
    try:
        at = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO time: {text!r}") from None
    if at.tzinfo is None:
        raise argparse.ArgumentTypeError(f"{text!r} has no time zone (write Z or +00:00)")
    return at.astimezone(UTC)


def _config(args: argparse.Namespace) -> ScanConfig:
    kinds = tuple(k.strip().lower() for k in str(args.kinds).split(",") if k.strip())
    fees = load_fees(args.fees) if args.fees else DEFAULT_FEES
    return ScanConfig(
        kinds=kinds, min_edge=args.min_edge, min_size=args.min_size,
        max_skew_ms=args.max_skew_ms, fees=fees, rate=args.rate,
    )  # fmt: skip


def run_scan_command(args: argparse.Namespace, settings: Settings) -> int:
    """Run the command (``settings``: built once by :func:`alc_data.cli.main`); returns the
    exit code."""
    if args.end <= args.start:
        raise ConfigError("--end must be after --start")
    config = _config(args)
    run = asyncio.run(_run(settings, args, config))
    if args.json:
        out = {
            "run_id": str(run.run_id), "states": run.states, "seconds": run.seconds,
            "counts": run.counts(), "total_edge": run.total_edge(),
            "findings": [f.to_json() for f in run.findings],
        }  # fmt: skip
        print(json.dumps(out))
    else:
        print(render_summary(run))
    return 0


async def _run(settings: Settings, args: argparse.Namespace, config: ScanConfig) -> ScanRun:
    from alc_data.scan.runs import run_scan  # pyarrow loads only when a scan runs

    def progress(symbol: str, states: int, at: datetime) -> None:
        if states % 500 == 0:
            print(f"\r{symbol}: {states} states, at {at:%Y-%m-%d %H:%M:%S}", end="",
                  file=sys.stderr, flush=True)  # fmt: skip

    async with Database.from_settings(settings) as db:
        run = await run_scan(
            db, args.symbols, start=args.start, end=args.end, config=config,
            every=args.every, source=args.source, progress=progress,
        )  # fmt: skip
    print(file=sys.stderr)
    return run


def _leg_name(leg: FindingLeg) -> str:
    return "STK" if leg.right == "STK" else f"{leg.expiry}/{leg.strike:g}{leg.right}"


def render_summary(run: ScanRun, *, best: int = 5) -> str:
    """The summary table: findings by kind, the best ones, the total edge, the run id."""
    lines = [f"scan run {run.run_id}: {run.states} states in {run.seconds:.1f} s"]
    lines.append(f"{'kind':<12}{'findings':>10}{'edge $':>12}")
    for kind in KINDS:
        found = [f for f in run.findings if f.kind == kind]
        lines.append(f"{kind:<12}{len(found):>10}{sum(f.edge for f in found):>12.2f}")
    lines.append(f"{'total':<12}{len(run.findings):>10}{run.total_edge():>12.2f}")
    top = sorted(run.findings, key=lambda f: f.edge, reverse=True)[:best]
    if top:
        lines.append("best:")
    for f in top:
        legs = " ".join(f"{leg.side[0]}{_leg_name(leg)}" for leg in f.legs)
        lines.append(
            f"  {f.first_seen:%Y-%m-%d %H:%M:%S} {f.kind:<10} edge ${f.edge:.2f} "
            f"ROI {f.roi_percent:.2f}% size {f.size:g}  {legs}"
        )
    return "\n".join(lines)
