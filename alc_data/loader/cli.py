"""``alc-data load-history``: load IB history bars for a symbol and its live options.

Registered by the composition root with :func:`register`. ``--sim`` runs the loader against an
in-process simulator on a free port (a demo, and how the command is checked); ``--ib HOST:PORT``
against a gateway or TWS (default: ``ALC_IB_HOST``/``ALC_IB_PORT``). ``--daily`` loads what is
missing over the last ``--days-back`` days (run it once a day to keep every live contract's
history complete up to its expiry: IB serves no history for expired options).

Exit codes: 0 success, 1 some requests failed (they are retried by the next run), 2 bad usage,
3 the gateway went away mid-load (one line says how far it got; rerun to resume).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import math
import shutil
import sys
from collections.abc import AsyncIterator, Iterator
from typing import Any, TextIO

from alc_data import exchange_calendar as cal
from alc_data.arguments import (
    bar_size_arg,
    check_date_range,
    count_arg,
    date_arg,
    days_arg,
    symbol_arg,
)
from alc_data.config import Settings
from alc_data.db import migrate
from alc_data.db.database import Database
from alc_data.errors import LoadInterruptedError
from alc_data.ib.connect import connect_ib, ib_address
from alc_data.ib.pacing import PacingRules
from alc_data.loader.config import OPTION_SERIES, LoaderConfig
from alc_data.loader.estimate import LARGE_REQUESTS, LARGE_ROWS, LoadEstimate
from alc_data.loader.loader import HistoricalDataLoader
from alc_data.loader.stats import LoadProgress

__all__ = ["ProgressDisplay", "register", "run_load_history"]

#: ``--sim`` loads this many contracts unless ``--max-contracts`` says otherwise: the simulated
#: chain has well over a thousand contracts in the default bands.
SIM_MAX_CONTRACTS = 20


def register(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``load-history`` command to an ``argparse`` subparsers object."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "load-history",
        help="load IB history bars of a symbol and its live options (paced, resumable)",
        description="Load the underlying's TRADES bars and 30-day implied/historical "
        "volatility, and the BID_ASK bars of every live option in the collector's expiry and "
        "strike bands, for the trading days START..END (both included). Complete days are "
        "never requested again.",
    )
    parser.add_argument("symbol", type=symbol_arg, help="underlying symbol, e.g. SPY")
    parser.add_argument("--start", type=date_arg, help="first day (YYYY-MM-DD)")
    parser.add_argument("--end", type=date_arg, help="last day, included")
    source = parser.add_mutually_exclusive_group()
    source.add_argument(
        "--ib", metavar="HOST:PORT", type=ib_address, help="gateway/TWS (ALC_IB_HOST:ALC_IB_PORT)"
    )
    source.add_argument("--sim", action="store_true", help="use an in-process simulator")
    parser.add_argument(
        "--daily", action="store_true", help="load what is missing over the last --days-back days"
    )
    parser.add_argument("--days-back", type=days_arg, default=30, help="window of --daily (30)")
    parser.add_argument(
        "--max-contracts",
        type=count_arg(0, " (0 = every contract in the bands)"),
        default=None,
        help=f"at most N options, nearest the money first (--sim: "
        f"{SIM_MAX_CONTRACTS}; 0 = all in the bands)",
    )
    parser.add_argument(
        "--bar-size",
        type=bar_size_arg,
        default="1 min",
        help='intraday bar size, one of IB\'s ("1 min", "30 secs", "5 mins", ...)',
    )
    parser.add_argument(
        "--what",
        default="BID_ASK",
        help=f"option series, comma-separated, of {sorted(OPTION_SERIES)}",
    )
    parser.add_argument("--client-id", type=count_arg(0), default=None, help="IB client id")
    parser.add_argument(
        "--pacing-time-scale",
        type=float,
        default=1.0,
        metavar="SCALE",
        help="multiply IB's pacing windows (only for a simulator started with the same scale)",
    )
    parser.add_argument("--json", action="store_true", help="print the stats as one JSON object")
    parser.add_argument(
        "--yes",
        action="store_true",
        help=f"start a large load (over {LARGE_REQUESTS} requests or {LARGE_ROWS:,} bars) "
        "without asking",
    )
    parser.set_defaults(handler=run_load_history)
    return parser  # fmt: skip


def run_load_history(args: argparse.Namespace, settings: Settings) -> int:
    """Run the command (``settings``: built once by :func:`alc_data.cli.main`); returns the
    exit code."""
    if not args.daily and (args.start is None or args.end is None):
        print("alc-data load-history: --start and --end are required (or --daily)",
              file=sys.stderr)  # fmt: skip
        return 2
    try:
        config = _config(args)
        if not args.daily:
            check_date_range(args.start, args.end)
    except ValueError as exc:
        print(f"alc-data load-history: error: {exc}", file=sys.stderr)
        return 2
    if not args.daily and not cal.trading_days(args.start, args.end):
        print(f"alc-data load-history: error: {args.start}..{args.end} holds no trading day "
              "(weekends and exchange holidays only): nothing to load",
              file=sys.stderr)  # fmt: skip
        return 2
    if migrate.upgrade_if_empty(
        migrate.settings_url(settings),
        backend=settings.database.backend,
        retention_days=settings.database.retention_days,
    ):
        print("alc-data: the database had no schema; migrated it to head", file=sys.stderr)
    confirm = Confirmation(sys.stdin, sys.stderr, assume_yes=args.yes)
    try:
        stats = asyncio.run(_run(args, config, settings, confirm))
    except LoadInterruptedError as exc:
        _print_stats(exc.stats, args.json)
        print(f"alc-data load-history: {exc}", file=sys.stderr)
        return 3
    _print_stats(stats, args.json)
    if confirm.declined:
        return 1
    return 0 if stats["errors"] == 0 else 1


class Confirmation:
    """The plan hook of the command: tells the estimate; a large load asks first.

    On a terminal a large load starts only after "y" (or with ``--yes``); elsewhere (a
    script, cron) it proceeds and says so.
    """

    def __init__(self, answers: TextIO, stream: TextIO, *, assume_yes: bool) -> None:
        self.answers = answers
        self.stream = stream
        self.assume_yes = assume_yes
        self.declined = False

    def __call__(self, estimate: LoadEstimate) -> bool:
        say = self.stream
        print(estimate.describe(), file=say)
        if not estimate.large or self.assume_yes:
            return True
        large = f"a large load (over {LARGE_REQUESTS} requests or {LARGE_ROWS:,} bars)"
        if not self.answers.isatty():
            print(f"alc-data load-history: {large}; not on a terminal, so starting it "
                  "without --yes", file=say)  # fmt: skip
            return True
        say.write(f"{large}. Start it? [y/N] ")
        say.flush()
        if self.answers.readline().strip().lower() in ("y", "yes"):
            return True
        self.declined = True
        print("alc-data load-history: nothing loaded (pass --yes to start large loads "
              "without asking)", file=say)  # fmt: skip
        return False


def _print_stats(stats: dict[str, Any], as_json: bool) -> None:
    if as_json:
        print(json.dumps(stats, default=str))
    else:
        print("\n".join(f"{key:>20}: {value}" for key, value in stats.items()))


def _config(args: argparse.Namespace) -> LoaderConfig:
    limit = args.max_contracts
    if limit is None and args.sim:
        limit = SIM_MAX_CONTRACTS
    what = tuple(w.strip().upper() for w in args.what.split(",") if w.strip())
    scale = args.pacing_time_scale
    if not math.isfinite(scale) or not 0 < scale <= 1:
        raise ValueError(f"--pacing-time-scale must be in (0, 1], got {scale:g}")
    return LoaderConfig(
        bar_size=args.bar_size, option_what_to_show=what, max_contracts=limit or None,
        pacing=PacingRules(time_scale=scale),
    )  # fmt: skip


async def _run(
    args: argparse.Namespace, config: LoaderConfig, settings: Settings, confirm: Confirmation
) -> dict[str, Any]:
    display = ProgressDisplay(sys.stderr)
    with display.logging_above():
        return await _load(args, config, settings, display, confirm)


async def _load(
    args: argparse.Namespace,
    config: LoaderConfig,
    settings: Settings,
    display: ProgressDisplay,
    confirm: Confirmation,
) -> dict[str, Any]:
    async with _ib(args, settings, config.pacing) as ib, Database.from_settings(settings) as db:
        loader = HistoricalDataLoader(db, ib, config, settings=settings, on_progress=display,
                                      on_plan=confirm)  # fmt: skip
        try:
            if args.daily:
                return await loader.backfill_gaps(args.symbol, days_back=args.days_back)
            return await loader.load_symbol_history(args.symbol, args.start, args.end)
        finally:
            display.finish()


@contextlib.asynccontextmanager
async def _ib(
    args: argparse.Namespace, settings: Settings, pacing: PacingRules
) -> AsyncIterator[Any]:
    client_id = args.client_id if args.client_id is not None else settings.ib.client_id
    async with contextlib.AsyncExitStack() as stack:
        host, port = settings.ib.host, settings.ib.port
        if args.sim:
            from alc_data.ib.sim import SimConfig, SimServer

            sim = await stack.enter_async_context(SimServer(SimConfig(pacing=pacing), port=0))
            host, port = "127.0.0.1", sim.port
        elif args.ib:
            host, port = args.ib
        ib = await connect_ib(host, port, client_id, readonly=True)
        stack.callback(ib.disconnect)
        yield ib


class ProgressDisplay:
    """Renders :class:`LoadProgress` on a stream: a bar on a terminal, else a line per 10%."""

    WIDTH = 30

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.tty = stream.isatty()
        self._last_decile = -1
        self._shown = False
        self._line = ""

    @property
    def _width(self) -> int:
        return max(40, shutil.get_terminal_size((120, 24)).columns - 1)

    def __call__(self, progress: LoadProgress) -> None:
        line = self.render(progress)
        if self.tty:
            self._line = line.ljust(self._width)[: self._width]
            self.stream.write("\r" + self._line)
            self._shown = True
        else:
            decile = int(progress.fraction * 10)
            if decile == self._last_decile:
                return
            self._last_decile = decile
            self.stream.write(line + "\n")
        self.stream.flush()

    @classmethod
    def render(cls, p: LoadProgress) -> str:
        """One line: bar, requests done/planned, contracts, IB requests, waits, ETA."""
        filled = round(p.fraction * cls.WIDTH)
        eta = "--:--" if p.eta_seconds is None else _clock(p.eta_seconds)
        errors = ""
        if p.ib_errors:
            counts = " ".join(f"{k}x{n}" for k, n in sorted(p.ib_errors.items()))
            errors = f", IB errors {counts}"
        return (
            f"{p.symbol} [{'#' * filled}{'.' * (cls.WIDTH - filled)}] "
            f"{p.requests_done}/{p.requests_planned} requests, {p.contracts} contracts, "
            f"{p.history_requests} sent, {p.pacing_waits} paced, ETA {eta}{errors}"
        )

    def write_above(self, text: str) -> None:
        """A log line above the bar (the bar is drawn again below it)."""
        if self.tty and self._shown:
            self.stream.write("\r" + " " * len(self._line) + "\r" + text + "\n" + self._line)
        else:
            self.stream.write(text + "\n")
        self.stream.flush()

    @contextlib.contextmanager
    def logging_above(self) -> Iterator[None]:
        """Route the root logger's lines to :meth:`write_above` while the bar is shown."""
        root = logging.getLogger()
        handler = _AboveTheBar(self)
        saved = [h for h in root.handlers if getattr(h, "stream", None) is self.stream]
        handler.setFormatter(saved[0].formatter if saved else None)
        for h in saved:
            root.removeHandler(h)
        root.addHandler(handler)
        try:
            yield
        finally:
            root.removeHandler(handler)
            for h in saved:
                root.addHandler(h)

    def finish(self) -> None:
        """End the bar's line (terminal only)."""
        if self.tty and self._shown:
            self.stream.write("\n")
            self.stream.flush()


class _AboveTheBar(logging.Handler):
    def __init__(self, display: ProgressDisplay) -> None:
        super().__init__()
        self.display = display

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.display.write_above(self.format(record))
        except Exception:  # logging must never break the load; the stdlib's own policy
            self.handleError(record)


def _clock(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes:02d}:{secs:02d}"
