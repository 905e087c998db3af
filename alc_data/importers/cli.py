"""``alc-data import FORMAT PATH...``: import vendor history files.

Registered by the composition root with :func:`register`. Prints a progress line (rows/s,
share of the file, ETA) to stderr while it runs, and the summary at the end (``--json``: one
JSON object with ``rows_read``, ``rows_written``, ``duplicates``, ``rejected`` by reason and
the first bad records with their file and record number). Exit codes: 0 done (bad records
are reported, not fatal), 1 an error (nothing accepted is lost; run it again to resume),
2 bad usage.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, TextIO

from alc_data.config import Settings
from alc_data.db.database import Database
from alc_data.importers import FORMATS, ImportOptions, ImportSummary, import_vendor_files
from alc_data.importers.progress import ImportProgress

__all__ = ["register", "render_summary", "run_import"]


def register(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``import`` command to an ``argparse`` subparsers object."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "import",
        help="import vendor history files (Databento DBN, Massive flat files, Cboe EOD)",
        description="Import vendor files into the same tables as collected data, recorded "
        "under their own source. Files already imported are skipped; an interrupted import "
        "is resumed by running it again.",
    )
    parser.add_argument("format", choices=sorted(FORMATS), help="the files' format")
    parser.add_argument("paths", nargs="+", type=Path, metavar="PATH", help="files to import")
    parser.add_argument("--source", help="source name the rows are recorded under "
                        "(default: databento, massive, cboe-datashop)")  # fmt: skip
    parser.add_argument("--symbols", type=_symbols, help="only these underlyings (SPY,QQQ)")
    parser.add_argument("--start", type=_instant, help="from this UTC date or ISO time")
    parser.add_argument("--end", type=_instant, help="before this UTC date or ISO time")
    parser.add_argument("--again", action="store_true", help="read files imported before too")
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    parser.add_argument("--quiet", action="store_true", help="no progress display")
    parser.set_defaults(handler=run_import)
    return parser


def _symbols(value: str) -> frozenset[str]:
    symbols = frozenset(s.strip().upper() for s in value.split(",") if s.strip())
    if not symbols:
        raise argparse.ArgumentTypeError("no symbol given")
    return symbols


def _instant(value: str) -> datetime:
    try:
        if len(value) == 10:
            return datetime.combine(date.fromisoformat(value), datetime.min.time(), UTC)
        at = datetime.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date or ISO time: {value!r}") from None
    if at.tzinfo is None:
        raise argparse.ArgumentTypeError(f"give a time zone (e.g. {value}+00:00)")
    return at


def _progress_printer(stream: TextIO) -> Any:
    def show(progress: ImportProgress) -> None:
        print(progress.render(), file=stream, flush=True)

    return show


def render_summary(summary: ImportSummary) -> str:
    """The summary as terminal lines."""
    lines = [
        f"imported {summary.files - summary.files_skipped} of {summary.files} files "
        f"({summary.format}, source {summary.source}; {summary.files_skipped} done before)",
        f"  rows read {summary.rows_read:,}, written {summary.rows_written:,}, "
        f"duplicates {summary.duplicates:,}, collapsed {summary.collapsed:,}, "
        f"filtered {summary.filtered:,}, contracts created {summary.contracts_created:,}",
        f"  rejected {summary.rejected_total:,}"
        + "".join(f", {reason} {n:,}" for reason, n in sorted(summary.rejected.items())),
    ]
    lines += [f"  {bad}" for bad in summary.bad_records[:20]]
    return "\n".join(lines)


def run_import(args: argparse.Namespace, settings: Settings) -> int:
    """Run the command (``settings``: built once by :func:`alc_data.cli.main`); returns the
    exit code."""
    options = ImportOptions(
        symbols=args.symbols,
        start=args.start,
        end=args.end,
        again=args.again,
        progress=None if args.quiet else _progress_printer(sys.stderr),
    )
    summary = asyncio.run(_run(settings, args.format, args.paths, args.source, options))
    print(json.dumps(summary.as_json()) if args.json else render_summary(summary))
    return 0


async def _run(
    settings: Settings,
    format_name: str,
    paths: list[Path],
    source: str | None,
    options: ImportOptions,
) -> ImportSummary:
    async with Database.from_settings(settings) as db:
        return await import_vendor_files(db, format_name, paths, source=source, options=options)
