"""``alc-data collect SYMBOL... [--duration 10m] [--ib HOST:PORT | --sim] [--json]``.

Discovers the symbols' universes, then collects until the duration (counted from the first
market-data lines) passes or a signal, showing a status line on stderr (once a second);
``--json`` prints the final ``get_stats()`` as one JSON object on stdout. ``--sim`` starts the
simulator in process on a free port. A database without any schema is migrated to head
first (an outdated one is left alone: ``alc-data db upgrade``).

SIGINT (Ctrl-C) and SIGTERM stop it at any point, while connecting and discovering too:
every accepted row is stored, or spooled when the database does not answer within a few
seconds; a second signal stops at once. Exit codes: 0; 1 when rows were shed or left in the
spool, or collection failed; 130 after SIGINT, 143 after SIGTERM.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import re
import signal
import sys
from typing import Any

from alc_data.arguments import MAX_WINDOW_DAYS, count_arg, symbol_arg
from alc_data.collector.collector import OptionsDataCollector
from alc_data.collector.config import CollectorConfig
from alc_data.config import Settings
from alc_data.db import migrate
from alc_data.db.database import Database
from alc_data.ib.connect import connect_ib, ib_address

__all__ = ["parse_duration", "register", "run_collect"]

_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(text: str) -> float:
    """``"90"``, ``"90s"``, ``"10m"``, ``"1.5h"`` -> seconds.

    Raises:
        argparse.ArgumentTypeError: not a positive duration.
    """
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*", text.lower())
    if not match or float(match.group(1)) <= 0:
        raise argparse.ArgumentTypeError(f"not a duration: {text!r} (e.g. 30s, 10m, 2h)")
    seconds = float(match.group(1)) * _UNITS[match.group(2)]
    if seconds > MAX_WINDOW_DAYS * 86_400:
        raise argparse.ArgumentTypeError(f"at most ten years, got {text!r}")
    return seconds


def register(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``collect`` command to a CLI's subparsers."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "collect", help="collect live option and underlying quotes from IB"
    )
    parser.add_argument(
        "symbols", nargs="+", metavar="SYMBOL", type=symbol_arg, help="e.g. SPY QQQ AAPL"
    )
    parser.add_argument(
        "--duration",
        type=parse_duration,
        default=None,
        help="stop after streaming this long (30s, 10m, 2h), counted from the first "
        "subscriptions, after discovery; default: until Ctrl-C",
    )
    source = parser.add_mutually_exclusive_group()
    source.add_argument(
        "--ib",
        type=ib_address,
        metavar="HOST:PORT",
        help="TWS / IB Gateway (default ALC_IB_HOST:ALC_IB_PORT)",
    )
    source.add_argument(
        "--sim",
        action="store_true",
        help="start the market simulator in process and collect from it",
    )
    parser.add_argument(
        "--client-id",
        type=count_arg(0),
        default=None,
        help="IB client id (default ALC_IB_CLIENT_ID)",
    )
    parser.add_argument(
        "--max-lines",
        type=count_arg(1),
        default=None,
        help="market-data lines to use (default ALC_MAX_MARKET_DATA_LINES)",
    )
    parser.add_argument(
        "--max-contracts",
        type=count_arg(0, " (0 = every contract in the bands)"),
        default=None,
        help="at most this many contracts per symbol, nearest the money (0 = all in the bands)",
    )
    parser.add_argument("--json", action="store_true", help="print the final stats as JSON")
    parser.set_defaults(handler=run_collect)  # fmt: skip
    return parser


#: Exit codes after a signal: 128 + the signal's number, as shells report it.
_SIGNAL_EXIT = {signal.SIGINT: 130, signal.SIGTERM: 143}
#: Seconds a signalled stop may keep trying an unavailable database before leaving the rest
#: in the spool (the rows are on disk either way).
_SIGNAL_STOP_WITHIN = 3.0


class _Stopping:
    """SIGINT / SIGTERM, installed before anything else: the first asks for a stop that
    stores or spools every accepted row, a second one cancels whatever still runs."""

    def __init__(self) -> None:
        self.signal: signal.Signals | None = None
        self.event = asyncio.Event()
        self._main: asyncio.Task[Any] | None = None

    def install(self) -> None:
        loop = asyncio.get_running_loop()
        self._main = asyncio.current_task()
        for sig in _SIGNAL_EXIT:
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(sig, self._on_signal, sig)

    def _on_signal(self, sig: signal.Signals) -> None:
        if self.signal is not None and self._main is not None:
            print(f"\nalc-data: {sig.name} again: stopping now", file=sys.stderr)
            self._main.cancel()
            return
        self.signal = sig
        print(f"\nalc-data: {sig.name}: stopping, storing what was collected...",
              file=sys.stderr)  # fmt: skip
        self.event.set()

    async def race(self, work: Any) -> Any:
        """``await work``, unless a signal comes first: then it is cancelled and
        :class:`_Interrupted` raised."""
        task = asyncio.ensure_future(work)
        waiting = asyncio.ensure_future(self.event.wait())
        try:
            await asyncio.wait({task, waiting}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            waiting.cancel()
            if not task.done():
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
        if task.cancelled():
            raise _Interrupted()
        return task.result()


class _Interrupted(Exception):
    """A signal stopped the command before collection began."""


def run_collect(args: argparse.Namespace, settings: Settings) -> int:
    """The ``collect`` command (``settings``: built once by :func:`alc_data.cli.main`)."""
    url = migrate.settings_url(settings)
    if migrate.upgrade_if_empty(
        url, backend=settings.database.backend, retention_days=settings.database.retention_days
    ):
        print("alc-data: the database had no schema; migrated it to head", file=sys.stderr)
    stopping = _Stopping()
    try:
        stats = asyncio.run(
            _collect(args, settings, Database.from_url(url, settings=settings), stopping)
        )
    except (_Interrupted, asyncio.CancelledError):  # stopped before collecting, or twice
        print("alc-data: stopped", file=sys.stderr)
        return _SIGNAL_EXIT[stopping.signal or signal.SIGINT]
    if args.json:
        print(json.dumps(stats, default=str, sort_keys=True))
    else:
        print(_summary(stats))
    if stopping.signal is not None:
        return _SIGNAL_EXIT[stopping.signal]
    return 1 if stats["shed_rows"] or stats["spooled_rows"] else 0


async def _collect(
    args: argparse.Namespace, settings: Settings, db: Database, stopping: _Stopping
) -> dict[str, Any]:
    stopping.install()
    overrides: dict[str, Any] = {}
    if args.max_lines:
        overrides["max_lines"] = args.max_lines
    if args.max_contracts:
        overrides["max_contracts_per_symbol"] = args.max_contracts
    config = CollectorConfig.from_settings(settings, **overrides)
    client_id = args.client_id if args.client_id is not None else settings.ib.client_id
    async with contextlib.AsyncExitStack() as stack:
        stack.push_async_callback(db.close)
        host, port = args.ib or (settings.ib.host, settings.ib.port)
        if args.sim:
            from alc_data.ib.sim import SimConfig, SimServer

            sim = await stack.enter_async_context(
                SimServer(SimConfig(lines=config.max_lines), port=0)
            )
            host, port = "127.0.0.1", sim.port
        ib = await stopping.race(connect_ib(host, port, client_id))
        stack.callback(ib.disconnect)
        collector = OptionsDataCollector(db, ib, config)
        return await _run(collector, [s.upper() for s in args.symbols], args.duration, stopping)
    raise AssertionError("unreachable")


async def _run(
    collector: OptionsDataCollector,
    symbols: list[str],
    duration: float | None,
    stopping: _Stopping,
) -> dict[str, Any]:
    task = asyncio.create_task(collector.start_collection(symbols))
    loop = asyncio.get_running_loop()
    stop = stopping.event
    streaming = asyncio.create_task(collector.wait_streaming())
    print("discovering the universe...", end="", file=sys.stderr, flush=True)
    stopping_task = asyncio.create_task(stop.wait())  # a signal also during discovery
    await asyncio.wait({task, streaming, stopping_task}, return_when=asyncio.FIRST_COMPLETED)
    streaming.cancel()
    stopping_task.cancel()
    if not task.done() and not stop.is_set():
        print("\r" + _plan_line(collector.get_stats()), file=sys.stderr)
    deadline = None if duration is None else loop.time() + duration  # from the first lines
    while not task.done() and not stop.is_set():
        if deadline is not None and loop.time() >= deadline:
            break
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=1.0)
        _status(collector.get_stats())
    within = _SIGNAL_STOP_WITHIN if stop.is_set() else None
    await collector.stop_collection(within=within)
    print(file=sys.stderr)
    await task  # re-raises a failed start (no symbol discovered, ...) or a failed task
    return collector.get_stats()


def _plan_line(s: dict[str, Any]) -> str:
    """What the bands mean, said once streaming starts: contracts, lines, rotation."""
    contracts, lines = s["active_contracts"], s["line_budget"]
    per = ", ".join(f"{sym} {info['contracts']}" for sym, info in s["symbols"].items())
    rotation = (
        f"; more contracts than lines, so they take turns ({lines / contracts:.0%} of "
        "them streamed at any moment)"
        if contracts > lines
        else ""
    )
    return (f"collecting {contracts} option contracts in the bands ({per}) on {lines} "
            f"market-data lines{rotation}")  # fmt: skip


def _status(s: dict[str, Any]) -> None:
    db = "db ok" if s["db_available"] else f"DB DOWN, spooled {s['spooled_rows']}"
    ib = "ib ok" if s["connected"] else "IB DISCONNECTED"
    line = (
        f"\r{s['uptime_seconds']:7.0f}s  rows {s['ticks_collected']:,} stored "
        f"{s['ticks_inserted']:,}  lines {s['lines_in_use']}/{s['line_budget']}  "
        f"contracts {s['coverage']['covered']}/{s['active_contracts']}  "
        f"rotations {s['rotations']}  {ib}  {db}  errors {s['errors']}"
    )
    print(line.ljust(110), end="", file=sys.stderr, flush=True)


def _summary(s: dict[str, Any]) -> str:
    lines = [
        f"collected {s['ticks_collected']:,} rows, stored {s['ticks_inserted']:,} "
        f"(option {s['option_ticks']['inserted']:,}, underlying "
        f"{s['stock_ticks']['inserted']:,})",
        f"contracts {s['active_contracts']}, covered {s['coverage']['covered']}, "
        f"rotations {s['rotations']}, reconnects {s['reconnects']}, errors {s['errors']}",
    ]
    if s["spooled_rows"] or s["shed_rows"]:
        lines.append(f"WARNING: {s['spooled_rows']} rows left in the spool, "
                     f"{s['shed_rows']} shed")  # fmt: skip
    for symbol, info in s["symbols"].items():
        lines.append(f"  {symbol}: {info['contracts']} contracts, {info['ticks']:,} ticks, "
                     f"{info['stock_ticks']:,} underlying ticks")  # fmt: skip
    return "\n".join(lines)
