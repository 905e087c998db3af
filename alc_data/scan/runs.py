"""A scan as a backtest run: replay each symbol's chain, scan every state, log the findings.

    run = await run_scan(db, ["SPY"], start=t0, end=t1, config=ScanConfig(min_edge=0.5))
    run.run_id, run.findings, run.counts()

The run is a ``backtest_runs`` row (strategy_type ``SCAN``; parameters: the scan's settings,
the cadence, the source; status RUNNING, then COMPLETED with the counts, or FAILED with the
error); each finding an ``arbitrage_opportunities`` row written with
:meth:`~alc_data.repositories.OpportunityRepository.log`: ``strategy_type`` CONVERSION,
REVERSAL, BOX or CALENDAR, ``timestamp`` the first instant seen, ``theoretical_profit`` and
``min_profit`` the edge after fees at first sight, ``max_profit`` the largest edge seen,
``net_credit``, ``cost_basis``, ``roi_percent``, the call/put contracts and quotes,
``execution_window_ms`` how long it lasted, ``discovered_by`` ``alc_data.scan``, and
``details`` with the run id, the kind, every leg, the implied rate and the risk flags.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from alc_data.db.database import Database
from alc_data.read.frames import ArrowReader
from alc_data.repositories import Repositories
from alc_data.repositories.base import aware
from alc_data.scan.findings import STRATEGY_TYPES, Finding
from alc_data.scan.scanner import EpisodeTracker, ScanConfig, Scanner
from alc_data.scan.states import StateScanner

__all__ = ["ScanRun", "log_finding", "run_scan", "scan_replay"]

Progress = Callable[[str, int, datetime], None]


@dataclass
class ScanRun:
    """What a run found (episodes, in order of first sight) and the states it scanned."""

    run_id: uuid.UUID
    findings: list[Finding] = field(default_factory=list)
    states: int = 0
    seconds: float = 0.0

    def counts(self) -> dict[str, int]:
        """Findings by kind."""
        return dict(Counter(f.kind for f in self.findings))

    def total_edge(self) -> float:
        """The sum of the findings' edges (dollars per unit, at first sight)."""
        return sum(f.edge for f in self.findings)


def scan_replay(
    reader: ArrowReader,
    symbol: str,
    *,
    start: datetime,
    end: datetime,
    config: ScanConfig,
    every: timedelta | str = "1s",
    source: str | int | None = None,
    progress: Progress | None = None,
) -> tuple[list[Finding], int]:
    """The findings (merged episodes) of one symbol's replay and the number of states."""
    scanner = Scanner(config)
    tracker = EpisodeTracker()
    found: list[Finding] = []
    states = 0
    replay = reader.replay(symbol, start=start, end=end, every=every, source=source)
    try:
        states_scanner = StateScanner(replay, scanner)
        for state in replay.states():
            states += 1
            found.extend(tracker.feed(states_scanner.scan(state)))
            if progress is not None:
                progress(symbol, states, state.column("as_of")[0].as_py())
    finally:
        replay.close()
    found.extend(tracker.finish())
    found.sort(key=lambda f: (f.first_seen, f.kind))
    return found, states


async def run_scan(
    db: Database,
    symbols: Sequence[str],
    *,
    start: datetime,
    end: datetime,
    config: ScanConfig | None = None,
    every: timedelta | str = "1s",
    source: str | int | None = None,
    progress: Progress | None = None,
    reader: ArrowReader | None = None,
) -> ScanRun:
    """Scan ``symbols`` over ``[start, end)`` as one backtest run (see the module docstring).

    Raises:
        NaiveDatetimeError: a naive ``start`` or ``end``.
        AmbiguousSourceError, UnknownSourceError, DataError: from the replay (the run is then
            marked FAILED with the error, and the error re-raised).
    """
    start, end = aware(start, "start"), aware(end, "end")
    config = config or ScanConfig()
    config = await _with_dividends(db, symbols, config)
    parameters: dict[str, Any] = {
        **config.parameters(), "every": str(every), "source": source,
        "window": [start.isoformat(), end.isoformat()],
    }  # fmt: skip
    async with db.session() as session:
        row = await Repositories(session).backtests.start(
            "SCAN", start_date=start.date(), end_date=end.date(), symbols=list(symbols),
            parameters=parameters,
        )  # fmt: skip
        run = ScanRun(row.run_id)
    began = time.perf_counter()
    own_reader = reader is None
    arrow = reader if reader is not None else ArrowReader.connect(db)
    try:
        for symbol in symbols:
            found, states = await asyncio.to_thread(
                scan_replay, arrow, symbol, start=start, end=end, config=config, every=every,
                source=source, progress=progress,
            )  # fmt: skip
            run.findings.extend(found)
            run.states += states
        run.seconds = time.perf_counter() - began
        async with db.session() as session:
            repos = Repositories(session)
            for finding in run.findings:
                await log_finding(repos, finding, run.run_id)
            await repos.backtests.complete(
                run.run_id, total_trades=len(run.findings),
                winning_trades=sum(1 for f in run.findings if f.edge > 0),
                losing_trades=sum(1 for f in run.findings if f.edge <= 0),
                total_profit=run.total_edge(), execution_time_seconds=run.seconds,
            )  # fmt: skip
    except BaseException as exc:
        async with db.session() as session:
            await Repositories(session).backtests.fail(
                run.run_id, error_message=f"{type(exc).__name__}: {exc}"
            )
        raise
    finally:
        if own_reader:
            arrow.close()
    return run


async def log_finding(repos: Repositories, f: Finding, run_id: uuid.UUID | None) -> int:
    """Write one finding with ``OpportunityRepository.log``; returns the row's id."""
    options = [leg for leg in f.legs if leg.right != "STK"]
    calls = sorted((leg for leg in options if leg.right == "C"), key=lambda g: (g.expiry, g.strike))
    puts = sorted((leg for leg in options if leg.right == "P"), key=lambda g: (g.expiry, g.strike))
    first_call = calls[0] if calls else None
    first_put = puts[0] if puts else None
    expiries = sorted({leg.expiry for leg in options if leg.expiry is not None})
    window_ms = int((f.last_seen - f.first_seen).total_seconds() * 1000)
    details: dict[str, Any] = {
        "backtest_run_id": str(run_id) if run_id is not None else None,
        "kind": f.kind,
        **f.to_json(),
    }
    row = await repos.opportunities.log(
        STRATEGY_TYPES[f.kind],
        underlying_id=f.underlying_id,
        timestamp=f.first_seen,
        expiration_date=expiries[0] if expiries else None,
        call_strike=first_call.strike if first_call else None,
        put_strike=first_put.strike if first_put else None,
        call_contract_id=first_call.contract_id if first_call else None,
        put_contract_id=first_put.contract_id if first_put else None,
        near_expiry=expiries[0] if f.kind == "calendar" else None,
        far_expiry=expiries[-1] if f.kind == "calendar" else None,
        second_call_contract_id=calls[1].contract_id if len(calls) > 1 else None,
        second_put_contract_id=puts[1].contract_id if len(puts) > 1 else None,
        stock_price=f.stock_price,
        call_bid=first_call.price if first_call and first_call.side == "SELL" else None,
        call_ask=first_call.price if first_call and first_call.side == "BUY" else None,
        put_bid=first_put.price if first_put and first_put.side == "SELL" else None,
        put_ask=first_put.price if first_put and first_put.side == "BUY" else None,
        theoretical_profit=f.edge,
        max_profit=f.max_edge,
        min_profit=f.edge,
        roi_percent=f.roi_percent,
        net_credit=f.net_credit,
        cost_basis=f.cost_basis,
        execution_window_ms=window_ms,
        discovered_by="alc_data.scan",
        details=details,
    )
    return row.id


async def _with_dividends(db: Database, symbols: Sequence[str], config: ScanConfig) -> ScanConfig:
    """The config with the stored cash dividends of ``symbols`` (where it names none)."""
    dividends = dict(config.dividends)
    async with db.session() as session:
        repos = Repositories(session)
        for symbol in symbols:
            if symbol in dividends:
                continue
            security = await repos.securities.by_symbol(symbol)
            if security is None:
                continue
            actions = await repos.corporate_actions.for_underlying(security.id)
            dividends[symbol] = [
                (a.ex_date, float(a.amount))
                for a in actions
                if a.action_type == "DIVIDEND" and a.amount is not None
            ]
    return replace(config, dividends=dividends)
