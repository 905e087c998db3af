"""``alc-data demo``: the whole product on one machine, in a minute, with nothing but Python.

Steps: the demo's own database (``alc_demo`` on the embedded PostgreSQL under the data
directory, or on the configured server, or ``--database-url``: :mod:`alc_data.demo_database`;
never the database ``collect`` and ``load-history`` use) is migrated; the IB simulator starts
on a free port; the real ib_async client connects; the collector streams live quotes for a
short while; the loader fetches recent history; the quality check runs; the HTML report is
written (``demo-report.html`` in the data directory); a summary is printed.
Every row is recorded with the ``simulator`` source. A second run reuses the demo database
(history already loaded is not requested again); ``--reset`` starts afresh. Ctrl-C stops at
any point: the collector flushes what it accepted, and everything opened is closed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.engine import URL

from alc_data import exchange_calendar
from alc_data.collector import OptionsDataCollector
from alc_data.collector.config import CollectorConfig
from alc_data.config import Settings, redact_url
from alc_data.db import migrate
from alc_data.db.database import Database
from alc_data.db.rollups import refresh_all
from alc_data.demo_database import demo_url
from alc_data.ib.connect import connect_ib
from alc_data.ib.sim import SimConfig, SimServer
from alc_data.loader import HistoricalDataLoader, LoaderConfig
from alc_data.report import build_report
from alc_data.report.output import write_report
from alc_data.repositories import Repositories
from alc_data.validation import DataValidator

log = logging.getLogger(__name__)
Say = Callable[[str], None]


@dataclass(frozen=True)
class DemoOptions:
    """How big the demo is."""

    symbols: tuple[str, ...] = ("SPY", "QQQ")
    collect_seconds: float = 20.0
    history_days: int = 5
    #: Options per symbol, nearest the money (None: every contract in the bands).
    max_contracts: int | None = 40
    seed: int = 1
    #: The demo's database when given (``--database-url``); else ``alc_demo`` (module doc).
    database_url: str | None = None
    #: Start afresh: the demo database is emptied first (``--reset``).
    reset: bool = False


async def run_demo(settings: Settings, options: DemoOptions, say: Say) -> dict[str, Any]:
    """Run every step; returns the summary (also what ``--json`` prints)."""
    url = await demo_url(settings, database_url=options.database_url, reset=options.reset)
    say(f"database   {_where(url, settings, options)}")
    await asyncio.to_thread(migrate.upgrade, url, "head", backend=settings.database.backend)
    summary: dict[str, Any] = {"database": redact_url(url)}
    async with Database.from_url(url, settings=settings) as db, _simulator(options) as sim:
        say(f"simulator  IB API on 127.0.0.1:{sim.port} (seed {options.seed})")
        ib = await connect_ib("127.0.0.1", sim.port, settings.ib.client_id)
        try:
            summary["collection"] = await _collect(db, ib, settings, options, say)
            summary["history"] = await _load_history(db, ib, options, say)
        finally:
            ib.disconnect()
        now = datetime.now(UTC)
        await refresh_all(db.engine, now - timedelta(hours=1), now)
        summary["quality"] = await DataValidator(db).run_quality_check(hours_back=1)
        summary["snapshot"] = await _snapshot(db, options.symbols[0], now)
        summary["stats"] = await _counts(db)
        summary["report"] = str(await _report(db, settings, summary["history"], now))
        say(f"report     {summary['report']}")
    summary["psql"] = _psql_hint(url, settings, options)
    return summary


@contextlib.asynccontextmanager
async def _simulator(options: DemoOptions) -> Any:
    server = SimServer(SimConfig(seed=options.seed), port=0)
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


async def _collect(
    db: Database, ib: Any, settings: Settings, options: DemoOptions, say: Say
) -> dict[str, Any]:
    config = CollectorConfig.from_settings(settings, max_contracts_per_symbol=options.max_contracts)
    collector = OptionsDataCollector(db, ib, config)
    task = asyncio.create_task(collector.start_collection(list(options.symbols)))
    say(f"collecting {', '.join(options.symbols)} live for {options.collect_seconds:g} s ...")
    try:
        deadline = asyncio.get_running_loop().time() + options.collect_seconds
        while not task.done() and asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(1)
            s = collector.get_stats()
            say(f"  {s['active_contracts']} contracts, {s['ticks_collected']} ticks collected, "
                f"{s['ticks_inserted']} stored")  # fmt: skip
    finally:
        # Also on Ctrl-C (cancellation): flush everything accepted before leaving.
        await asyncio.shield(collector.stop_collection())
        with contextlib.suppress(asyncio.CancelledError):
            await task
        stats = collector.get_stats()
        say(f"collected  {stats['ticks_inserted']} of {stats['ticks_collected']} accepted rows "
            f"stored, {stats['spooled_rows']} in the spool")  # fmt: skip
    return stats


async def _load_history(db: Database, ib: Any, options: DemoOptions, say: Say) -> dict[str, Any]:
    end = exchange_calendar.previous_trading_day(datetime.now(UTC).date())
    start = end
    for _ in range(options.history_days - 1):
        start = exchange_calendar.previous_trading_day(start)
    loader = HistoricalDataLoader(db, ib, LoaderConfig(max_contracts=options.max_contracts or None))
    totals: dict[str, Any] = {}
    for symbol in options.symbols:
        say(f"history    {symbol} {start} .. {end}, 1-minute bars, "
            f"{_options(options.max_contracts)} ...")  # fmt: skip
        stats = await loader.load_symbol_history(symbol, start_date=start, end_date=end)
        say(f"loaded     {stats['stock_bars_loaded']} stock bars, {stats['option_bars_loaded']} "
            f"option bars in {stats['history_requests']} requests "
            f"({stats['skipped_complete']} already complete)")  # fmt: skip
        for key, value in stats.items():
            if isinstance(value, int) and not isinstance(value, bool):
                totals[key] = totals.get(key, 0) + value
    return {"start_date": start.isoformat(), "end_date": end.isoformat(), **totals}


def _options(limit: int | None) -> str:
    return "every option in the bands" if limit is None else f"up to {limit} options"


async def _snapshot(db: Database, symbol: str, as_of: datetime) -> dict[str, Any]:
    async with db.session() as session:
        snap = await Repositories(session).chains.chain_snapshot(symbol, as_of=as_of)
    quotes = [q for q in snap.quotes if q.bid_price is not None][:6]
    return {
        "symbol": symbol,
        "as_of": as_of.isoformat(),
        "underlying": None if snap.underlying is None else snap.underlying.price,
        "quotes": [
            {
                "contract": q.contract_symbol,
                "time": q.time.isoformat() if q.time else None,
                "bid": q.bid_price,
                "ask": q.ask_price,
                "delta": q.delta,
                "iv": q.implied_volatility,
            }
            for q in quotes
        ],
    }


async def _report(db: Database, settings: Settings, history: dict[str, Any], now: datetime) -> Path:
    """The HTML report over the history loaded and the live collection, in the data dir."""
    first = date.fromisoformat(history["start_date"])
    start = datetime(first.year, first.month, first.day, tzinfo=UTC)
    async with db.connect() as conn:
        report = await build_report(
            conn,
            start=start,
            end=now + timedelta(seconds=1),
            gap_seconds=settings.validation.gap_seconds,
            default_source=settings.database.default_source,
        )
    return write_report(report, settings.database.data_dir / "demo-report.html")


async def _counts(db: Database) -> dict[str, int]:
    from sqlalchemy import text

    tables = ("option_chains", "market_data_ticks", "stock_data_ticks", "option_bars",
              "stock_bars", "data_quality_metrics")  # fmt: skip
    async with db.connect() as conn:
        return {t: int(await conn.scalar(text(f"SELECT count(*) FROM {t}")) or 0) for t in tables}


def _embedded(settings: Settings, options: DemoOptions) -> bool:
    return options.database_url is None and not settings.database.is_configured


def _where(url: URL, settings: Settings, options: DemoOptions) -> str:
    if not _embedded(settings, options):
        return redact_url(url)
    return (
        f"embedded PostgreSQL in {settings.database.data_dir / 'pgdata'}, "
        f"database {url.database} (the demo's own)"
    )


def _psql_hint(url: URL, settings: Settings, options: DemoOptions) -> str:
    if not _embedded(settings, options):
        # psql takes neither the driver nor asyncpg's options; the password it asks for
        plain = url.set(drivername="postgresql", password=None, query={})
        return f'psql "{redact_url(plain)}"'
    return (
        f"alc-data db psql -d {url.database}    "
        "(starts the embedded server and opens psql on the demo's database)"
    )


def render_summary(summary: dict[str, Any]) -> str:
    """The summary for a terminal."""
    q, s, snap = summary["quality"], summary["stats"], summary["snapshot"]
    lines = [
        "",
        "== summary",
        f"stored     {s['option_chains']} contracts, {s['market_data_ticks']} option ticks, "
        f"{s['stock_data_ticks']} stock ticks, {s['option_bars']} option bars, "
        f"{s['stock_bars']} stock bars",
        *_quality_lines(q),
        f"snapshot   {snap['symbol']} as of {snap['as_of']} (underlying {snap['underlying']}):",
    ]
    for quote in snap["quotes"]:
        lines.append(
            f"  {quote['contract']}  bid {quote['bid']}  ask {quote['ask']}  delta "
            f"{_fmt(quote['delta'])}  iv {_fmt(quote['iv'])}"
        )
    lines += [
        f"report     {summary['report']}  (open it in a browser)",
        f"data       {summary['database']}",
        f"query      {summary['psql']}",
        "           e.g. SELECT * FROM market_data_1min ORDER BY bucket DESC LIMIT 10;",
    ]
    return "\n".join(lines)


def _quality_lines(q: dict[str, Any]) -> list[str]:
    """The quality check in two lines whose counts are the report's own (none hidden)."""
    v = q["validation_stats"]
    lines = [
        f"quality    {q['total_records']} ticks in the last hour: {v['valid']} valid, "
        f"{v['warnings']} with warnings, {v['invalid']} invalid; price coverage "
        f"{q['price_data_coverage']:.1f}%, wide spreads {q['wide_spread_pct']:.1f}%, "
        f"{q['stale_contracts']} stale contracts, {q['contracts_with_gaps']} with gaps",
    ]
    if v["rule_failures"]:
        contracts = v.get("contract_findings", {})
        found = ", ".join(
            f"{rule} {count}" + (" contracts" if rule in contracts else "")
            for rule, count in sorted(v["rule_failures"].items(), key=lambda kv: -kv[1])
        )
        lines.append(f"findings   {found} (details: alc-data validate --hours 1)")
    return lines


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def parse_symbols(values: Sequence[str]) -> tuple[str, ...]:
    """Upper-cased, de-duplicated symbols in the order given."""
    return tuple(dict.fromkeys(v.upper() for v in values))
