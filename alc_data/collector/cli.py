"""``alc-data collect SYMBOL... [--duration 10m] [--ib HOST:PORT | --sim] [--json]``.

Discovers the symbols' universes, then collects until the duration (counted from the first
market-data lines) passes or Ctrl-C, showing a status line on stderr (once a second);
``--json`` prints the final ``get_stats()`` as one JSON object on stdout. ``--sim`` starts the
simulator in process on a free port. A database without any schema is migrated to head
first (an outdated one is left alone: ``alc-data db upgrade``). Exit code 0, or 1 when rows
were shed or left in the spool.
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

from alc_data.collector.collector import OptionsDataCollector
from alc_data.collector.config import CollectorConfig
from alc_data.config import Settings, load_settings
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
    return float(match.group(1)) * _UNITS[match.group(2)]


def register(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``collect`` command to a CLI's subparsers."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "collect", help="collect live option and underlying quotes from IB"
    )
    parser.add_argument("symbols", nargs="+", metavar="SYMBOL", help="e.g. SPY QQQ AAPL")
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
        "--client-id", type=int, default=None, help="IB client id (default ALC_IB_CLIENT_ID)"
    )
    parser.add_argument(
        "--max-lines",
        type=int,
        default=None,
        help="market-data lines to use (default ALC_MAX_MARKET_DATA_LINES)",
    )
    parser.add_argument(
        "--max-contracts",
        type=int,
        default=None,
        help="at most this many contracts per symbol (nearest the money)",
    )
    parser.add_argument("--json", action="store_true", help="print the final stats as JSON")
    parser.set_defaults(func=run_collect)  # fmt: skip
    return parser


def run_collect(args: argparse.Namespace) -> int:
    """The ``collect`` command."""
    settings = load_settings()
    url = migrate.settings_url(settings)
    if migrate.upgrade_if_empty(url):
        print("alc-data: the database had no schema; migrated it to head", file=sys.stderr)
    stats = asyncio.run(_collect(args, settings, Database.from_url(url, settings=settings)))
    if args.json:
        print(json.dumps(stats, default=str, sort_keys=True))
    else:
        print(_summary(stats))
    return 1 if stats["shed_rows"] or stats["spooled_rows"] else 0


async def _collect(args: argparse.Namespace, settings: Settings, db: Database) -> dict[str, Any]:

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
        ib = await connect_ib(host, port, client_id)
        stack.callback(ib.disconnect)
        collector = OptionsDataCollector(db, ib, config)
        return await _run(collector, [s.upper() for s in args.symbols], args.duration)
    raise AssertionError("unreachable")


async def _run(
    collector: OptionsDataCollector, symbols: list[str], duration: float | None
) -> dict[str, Any]:
    task = asyncio.create_task(collector.start_collection(symbols))
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    streaming = asyncio.create_task(collector.wait_streaming())
    print("discovering the universe...", end="", file=sys.stderr, flush=True)
    stopping = asyncio.create_task(stop.wait())  # Ctrl-C also during discovery
    await asyncio.wait({task, streaming, stopping}, return_when=asyncio.FIRST_COMPLETED)
    streaming.cancel()
    stopping.cancel()
    deadline = None if duration is None else loop.time() + duration  # from the first lines
    while not task.done() and not stop.is_set():
        if deadline is not None and loop.time() >= deadline:
            break
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=1.0)
        _status(collector.get_stats())
    await collector.stop_collection()
    print(file=sys.stderr)
    await task  # re-raises a failed start (no symbol discovered, ...)
    return collector.get_stats()


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
