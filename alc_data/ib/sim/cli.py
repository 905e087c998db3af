"""The ``sim`` command group: ``alc-data sim serve`` runs the simulator standalone."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import math
import signal
import sys

from alc_data.ib.pacing import PacingRules
from alc_data.ib.sim.config import MIN_UPDATE_INTERVAL
from alc_data.ib.sim.instruments import UNDERLYINGS
from alc_data.ib.sim.protocol import MAX_SERVER_VERSION, MIN_SERVER_VERSION
from alc_data.ib.sim.server import SimConfig, SimServer

__all__ = ["main", "register", "serve"]


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``sim`` command group (``sim serve``) to a CLI's subparsers."""
    sim = subparsers.add_parser("sim", help="the TWS-protocol market simulator")
    commands = sim.add_subparsers(dest="sim_command", required=True)
    serve_parser = commands.add_parser(
        "serve", help="run the simulator until Ctrl-C (connect ib_async to it)"
    )
    _add_serve_arguments(serve_parser)
    serve_parser.set_defaults(func=serve)


def _add_serve_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="interface (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=7497, help="TCP port (default 7497)")
    parser.add_argument("--seed", type=int, default=1, help="market seed (default 1)")
    parser.add_argument(
        "--lines", type=int, default=100, help="market-data lines before error 101 (default 100)"
    )
    parser.add_argument(
        "--calendar",
        action="store_true",
        help="follow the NYSE calendar instead of an always-open market",
    )
    parser.add_argument(
        "--update-interval",
        type=float,
        default=0.25,
        help="seconds between market-data updates (default 0.25)",
    )
    parser.add_argument(
        "--history-days", type=int, default=730, help="history depth in days (default 730)"
    )
    parser.add_argument(
        "--pacing-time-scale",
        type=float,
        default=1.0,
        help="multiply IB's pacing windows (default 1.0)",
    )


def _invalid(args: argparse.Namespace) -> str | None:
    """What is wrong with the arguments, in one line (None when nothing is)."""
    if not 1 <= args.port <= 65535:
        return f"--port must be between 1 and 65535, got {args.port}"
    interval = getattr(args, "update_interval", 0.25)
    if not math.isfinite(interval) or interval < MIN_UPDATE_INTERVAL:
        return (
            f"--update-interval must be at least {MIN_UPDATE_INTERVAL:g} s "
            f"({MIN_UPDATE_INTERVAL * 1000:.0f} ms), got {interval:g}"
        )
    if args.lines < 1:
        return f"--lines must be at least 1, got {args.lines}"
    if getattr(args, "history_days", 730) < 1:
        return f"--history-days must be at least 1, got {args.history_days}"
    scale = getattr(args, "pacing_time_scale", 1.0)
    if not math.isfinite(scale) or scale <= 0:
        return f"--pacing-time-scale must be a positive number, got {scale:g}"
    return None


def describe(server: SimServer) -> str:
    """What a started simulator serves, in one line."""
    clock = "live data in NYSE sessions only" if server.config.calendar else "live data at any hour"
    symbols = ", ".join(u.symbol for u in UNDERLYINGS)
    return (
        f"IB simulator ready on {server.host}:{server.port}: server versions "
        f"{MIN_SERVER_VERSION}-{MAX_SERVER_VERSION} (the highest a client also speaks); symbols "
        f"{symbols}; clock: {clock}, history on the NYSE calendar "
        f"({'NYSE calendar' if server.config.calendar else 'always open'}); seed "
        f"{server.config.seed}, {server.config.lines} lines, updates every "
        f"{server.config.update_interval:g} s"
    )


def serve(args: argparse.Namespace) -> int:
    """Run the simulator until interrupted; returns the process exit code (2: bad arguments)."""
    problem = _invalid(args)
    if problem is not None:
        print(f"alc-data sim serve: error: {problem}", file=sys.stderr)
        return 2
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    config = SimConfig(
        seed=args.seed,
        lines=args.lines,
        calendar=args.calendar,
        history_days=getattr(args, "history_days", 730),
        update_interval=getattr(args, "update_interval", 0.25),
        pacing=PacingRules(time_scale=getattr(args, "pacing_time_scale", 1.0)),
    )
    server = SimServer(config, host=args.host, port=args.port)
    log = logging.getLogger("alc_data.ib.sim")
    try:
        asyncio.run(_run(server))
    except KeyboardInterrupt:
        pass
    except OSError as exc:
        log.error("cannot listen on %s:%s: %s", args.host, args.port, exc)
        return 1
    log.info("IB simulator stopped")
    return 0


async def _run(server: SimServer) -> None:
    task = asyncio.current_task()
    loop = asyncio.get_running_loop()
    if task is not None:
        with contextlib.suppress(NotImplementedError):  # no signal handlers on Windows
            loop.add_signal_handler(signal.SIGTERM, task.cancel)
    await server.start()  # from here on SIGTERM stops cleanly
    logging.getLogger("alc_data.ib.sim").info("%s", describe(server))
    try:
        with contextlib.suppress(asyncio.CancelledError):
            await server.serve_forever()
    finally:
        await server.stop()


def main(argv: list[str] | None = None) -> int:
    """``python -m alc_data.ib.sim [serve] [options]``."""
    parser = argparse.ArgumentParser(
        prog="python -m alc_data.ib.sim", description="TWS-protocol options market simulator"
    )
    subparsers = parser.add_subparsers(dest="command")
    serve_parser = subparsers.add_parser("serve", help="run the simulator until Ctrl-C")
    _add_serve_arguments(serve_parser)
    _add_serve_arguments(parser)
    args = parser.parse_args(argv)
    return serve(args)
