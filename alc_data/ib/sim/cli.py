"""The ``sim`` command group: ``alc-data sim serve`` runs the simulator standalone."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import math
import signal
import sys
from datetime import UTC, datetime

from alc_data.errors import ScenarioError
from alc_data.ib.pacing import PacingRules
from alc_data.ib.sim.clock import SimClock
from alc_data.ib.sim.config import MIN_UPDATE_INTERVAL
from alc_data.ib.sim.instruments import UNDERLYINGS
from alc_data.ib.sim.market import MarketModel
from alc_data.ib.sim.planting import Planter
from alc_data.ib.sim.protocol import MAX_SERVER_VERSION, MIN_SERVER_VERSION
from alc_data.ib.sim.scenario import load_scenario
from alc_data.ib.sim.server import SimConfig, SimServer

__all__ = ["add_planted_arguments", "main", "planted", "register", "serve"]


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``sim`` command group (``sim serve``) to a CLI's subparsers."""
    sim = subparsers.add_parser("sim", help="the TWS-protocol market simulator")
    commands = sim.add_subparsers(dest="sim_command", required=True)
    serve_parser = commands.add_parser(
        "serve", help="run the simulator until Ctrl-C (connect ib_async to it)"
    )
    _add_serve_arguments(serve_parser)
    serve_parser.set_defaults(handler=serve)
    planted_parser = commands.add_parser(
        "planted", help="list the opportunities a scenario plants (the ground truth)"
    )
    add_planted_arguments(planted_parser)
    planted_parser.set_defaults(handler=planted)


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
        "--scenario", help="plant the opportunities of this YAML/JSON file (see sim planted)"
    )
    parser.add_argument(
        "--implied",
        choices=("reject", "list"),
        default="reject",
        help="a scenario whose moves create opportunities it does not list: reject it "
        "(default) or plant it and list them",
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
    """What a started simulator serves, in one line (host, port, versions, symbols, clock,
    scenario)."""
    clock = "live data in NYSE sessions only" if server.config.calendar else "live data at any hour"
    symbols = ", ".join(u.symbol for u in UNDERLYINGS)
    return (
        f"IB simulator ready on {server.host}:{server.port}: server versions "
        f"{MIN_SERVER_VERSION}-{MAX_SERVER_VERSION} (the highest a client also speaks); symbols "
        f"{symbols}; clock: {clock}, history on the NYSE calendar "
        f"({'NYSE calendar' if server.config.calendar else 'always open'}); seed "
        f"{server.config.seed}, {server.config.lines} lines, updates every "
        f"{server.config.update_interval:g} s; scenario: {_scenario_text(server)}"
    )


def _scenario_text(server: SimServer) -> str:
    scenario = server.config.scenario
    if scenario is None or server.planter is None:
        return "none"
    entries = server.planted()
    listed = [p for p in entries if p.implied_by is None]
    implied = len(entries) - len(listed)
    windows = ", ".join(
        f"{p.id} {p.kind} {p.start:%H:%M:%S}-{p.end:%H:%M:%S} UTC edge {p.edge:.2f}" for p in listed
    )
    extra = f" (+{implied} implied)" if implied else ""
    return f"{scenario.source or 'inline'}: {len(listed)} planted{extra}: {windows}"


def serve(args: argparse.Namespace, settings: object = None) -> int:
    """Run the simulator until interrupted; returns the process exit code (2: bad arguments).
    ``settings`` (what every command receives from :func:`alc_data.cli.main`) is unused: the
    simulator is configured by its arguments alone."""
    problem = _invalid(args)
    if problem is not None:
        print(f"alc-data sim serve: error: {problem}", file=sys.stderr)
        return 2
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    try:
        scenario = load_scenario(args.scenario) if getattr(args, "scenario", None) else None
    except ScenarioError as exc:
        print(f"alc-data sim serve: error: {exc}", file=sys.stderr)
        return 2
    config = SimConfig(
        seed=args.seed,
        scenario=scenario,
        implied=getattr(args, "implied", "reject"),
        lines=args.lines,
        calendar=args.calendar,
        history_days=getattr(args, "history_days", 730),
        update_interval=getattr(args, "update_interval", 0.25),
        pacing=PacingRules(time_scale=getattr(args, "pacing_time_scale", 1.0)),
    )
    try:
        server = SimServer(config, host=args.host, port=args.port)
    except ScenarioError as exc:
        print(f"alc-data sim serve: error: {exc}", file=sys.stderr)
        return 2
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


def add_planted_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``sim planted``."""
    parser.add_argument("--scenario", required=True, help="the scenario file (YAML or JSON)")
    parser.add_argument(
        "--start",
        help="the server's start (ISO 8601 with a zone) that offsets count from (default: now)",
    )
    parser.add_argument("--from", dest="window_from", help="only those planted after (ISO)")
    parser.add_argument("--to", dest="window_to", help="only those planted before (ISO)")
    parser.add_argument("--seed", type=int, default=1, help="market seed (default 1)")
    parser.add_argument(
        "--implied",
        choices=("reject", "list"),
        default="reject",
        help="opportunities the moves create that the file does not list: reject the file "
        "(default) or list them",
    )
    parser.add_argument("--json", action="store_true", help="one JSON document on stdout")


def _instant(text: str | None, name: str) -> datetime | None:
    if text is None:
        return None
    try:
        at = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise ScenarioError(f"{name} must be an ISO 8601 time, got {text!r}") from exc
    if at.tzinfo is None:
        raise ScenarioError(f"{name} {text!r} has no time zone (write Z or +00:00)")
    return at.astimezone(UTC)


def planted(args: argparse.Namespace, settings: object = None) -> int:
    """Print what a scenario plants (2: a bad scenario or argument)."""
    try:
        start = _instant(args.start, "--start") or datetime.now(UTC)
        window = (_instant(args.window_from, "--from"), _instant(args.window_to, "--to"))
        scenario = load_scenario(args.scenario)
        model = MarketModel(args.seed, clock=SimClock(start))
        planter = Planter(model, scenario, start, implied=args.implied)
    except ScenarioError as exc:
        print(f"alc-data sim planted: error: {exc}", file=sys.stderr)
        return 2
    entries = planter.planted(*window)
    if args.json:
        document = {
            "scenario": scenario.source,
            "server_start": start.isoformat(),
            "rate": model.rate,
            "planted": [p.to_json() for p in entries],
        }
        print(json.dumps(document, indent=2))
        return 0
    for p in entries:
        legs = " ".join(f"{leg.side.lower()}:{leg.local_symbol}({leg.con_id})" for leg in p.legs)
        implied = f" implied by {p.implied_by}" if p.implied_by else ""
        print(
            f"{p.id}\t{p.kind}\t{p.start.isoformat()}\t{p.end.isoformat()}\t"
            f"edge {p.edge:.2f}{implied}\t{legs}"
        )
    return 0


def main(argv: list[str] | None = None) -> int:
    """``python -m alc_data.ib.sim [serve] [options]``."""
    parser = argparse.ArgumentParser(
        prog="python -m alc_data.ib.sim", description="TWS-protocol options market simulator"
    )
    subparsers = parser.add_subparsers(dest="command")
    serve_parser = subparsers.add_parser("serve", help="run the simulator until Ctrl-C")
    _add_serve_arguments(serve_parser)
    planted_parser = subparsers.add_parser("planted", help="list what a scenario plants")
    add_planted_arguments(planted_parser)
    _add_serve_arguments(parser)
    args = parser.parse_args(argv)
    if args.command == "planted":
        return planted(args)
    return serve(args)
