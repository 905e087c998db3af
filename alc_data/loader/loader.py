"""``HistoricalDataLoader``: history bars of a symbol and its live options, paced, resumable.

One load (:meth:`HistoricalDataLoader.load_symbol_history`):

1. asks IB for its time (the simulator's clock in tests) and discovers the symbol's universe
   with the collector's bands (:func:`alc_data.ib.discovery.discover`), registering it;
2. lists the trading days of ``[start_date, end_date]`` whose session has closed (exchange
   calendar: holidays skipped, early closes honoured);
3. plans the missing units (:mod:`alc_data.loader.plan`): the underlying's TRADES bars and its
   30-day implied and historical volatility, and the configured series of every live option up
   to its expiry; known options that have expired are recorded ``unavailable`` (IB serves no
   history for them) and counted in ``unavailable_expired``;
4. runs the requests through the :class:`~alc_data.loader.scheduler.PacingScheduler`; each
   answer's bars are written (idempotently) and flushed *before* its days are recorded.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter, deque
from datetime import date, datetime, timedelta
from typing import Any, TypeVar

import asyncpg

from alc_data import exchange_calendar as cal
from alc_data.arguments import check_date
from alc_data.capture.universe import RegisteredUniverse, register_universe
from alc_data.config import Settings
from alc_data.db.database import Database
from alc_data.db.sources import register_source
from alc_data.errors import (
    AlcDataError,
    BrokerUnavailableError,
    DataError,
    LoadInterruptedError,
)
from alc_data.ib.discovery import discover
from alc_data.ib.history import TIMEOUT_KEY, AnswerKind, HistoryClient, IBClient
from alc_data.ib.provenance import client_source
from alc_data.loader.config import LoaderConfig
from alc_data.loader.estimate import LoadEstimate, PlanHook, estimate
from alc_data.loader.fetch import DayOutcome, RequestResult, execute
from alc_data.loader.gaps import complete_units, expired_options
from alc_data.loader.ledger import PacingLedger, gateway_name
from alc_data.loader.plan import (
    Instrument,
    RequestSpec,
    Series,
    UnitKey,
    closed_trading_days,
    plan_requests,
)
from alc_data.loader.progress import ProgressStore
from alc_data.loader.scheduler import PacingScheduler, shared_scheduler
from alc_data.loader.stats import LoadCounters, LoadProgress, ProgressHook
from alc_data.repositories import OptionBarRow, OptionBarWriter, StockBarRow, StockBarWriter

__all__ = ["HistoricalDataLoader"]

log = logging.getLogger(__name__)
T = TypeVar("T")
EXPIRED = "expired: IB serves no history for expired options"


class HistoricalDataLoader:
    """Loads IB history bars into ``stock_bars`` / ``option_bars``, paced and resumable.

    Args:
        db: a :class:`~alc_data.Database`, an ``asyncpg.Pool`` or a database URL.
        ib: a connected ``ib_async.IB`` (a gateway, TWS, or the simulator).
        config: what to load and how fast (:class:`~alc_data.loader.LoaderConfig`); the
            expiry and strike bands default to the collector's settings.
        settings: overrides the database's settings for the bands.
        on_progress: called with a :class:`~alc_data.loader.LoadProgress` after each request.
        on_plan: called with the :class:`~alc_data.loader.LoadEstimate` (contracts, requests,
            rows, time) before anything is requested; returning False stops the load there.
            Without it, the estimate is logged (a warning when the load is large).
        scheduler: the pacing scheduler to send through (default: the one every loader of
            this process shares for the client's gateway, over ``config.pacing``, admitting
            hard-rule requests through the database's pacing ledger unless
            ``config.pacing_ledger`` is off).

    Example::

        loader = HistoricalDataLoader(db_pool, ib)
        stats = await loader.load_symbol_history(
            "SPY", start_date=date(2024, 3, 4), end_date=date(2024, 3, 8)
        )
    """

    def __init__(
        self,
        db: Database | asyncpg.Pool | str,
        ib: IBClient,
        config: LoaderConfig | None = None,
        *,
        settings: Settings | None = None,
        on_progress: ProgressHook | None = None,
        scheduler: PacingScheduler | None = None,
        on_plan: PlanHook | None = None,
    ) -> None:
        self.db = Database.coerce(db)
        self.ib = ib
        self.config = config or LoaderConfig()
        self.settings = settings or self.db.settings
        self.on_progress = on_progress
        self.on_plan = on_plan
        self._scheduler = scheduler
        #: The ``data_sources`` id of the rows of the current (or last) run.
        self.source_id: int | None = None
        self._ledger: PacingLedger | None = None
        #: The stats of the last completed run.
        self.last_stats: dict[str, Any] | None = None

    @property
    def gateway(self) -> str:
        """The IB gateway this loader talks to (``host:port``, as the pacing ledger names it)."""
        client = getattr(self.ib, "client", None)
        return gateway_name(str(getattr(client, "host", "")), int(getattr(client, "port", -1)))

    @property
    def scheduler(self) -> PacingScheduler:
        """The pacing scheduler of this loader's gateway (needs a running event loop)."""
        if self._scheduler is None:
            self._scheduler = shared_scheduler(self.gateway, self.config.pacing)
        return self._scheduler

    @property
    def ledger(self) -> PacingLedger | None:
        """This loader's view of the database's pacing ledger (None: ``pacing_ledger`` off)."""
        if self._ledger is None and self.config.pacing_ledger:
            self._ledger = PacingLedger(self.db, self.gateway, self.config.pacing)
        return self._ledger

    async def load_symbol_history(
        self, symbol: str, start_date: date, end_date: date
    ) -> dict[str, Any]:
        """Load ``[start_date, end_date]`` (both included) for ``symbol`` and its live options.

        Returns the stats: ``symbol``, ``start_date``, ``end_date``, ``stock_bars_loaded``,
        ``option_bars_loaded``, ``errors`` (requests that failed after their retries),
        ``ib_errors`` (every IB error of the run by code, e.g. ``{"162": 3}``, and requests
        left unanswered under ``"timeout"``; each kind is logged once),
        ``history_requests`` (reqHistoricalData calls made by this run), ``pacing_waits``
        (requests held back by the pacing rules), ``skipped_complete`` (instrument-series-days
        already complete) and ``unavailable_expired`` (expired option contracts whose history
        in the window IB can no longer serve).

        Raises:
            DataError: ``end_date`` is before ``start_date``.
            IBError: the symbol is unknown to IB, or has no price or option chain.
            LoadInterruptedError: the connection to IB was lost mid-load (its ``stats`` say
                how far it got; the same load run again resumes it).
        """
        _check_symbol(symbol)
        for name, day in (("start_date", start_date), ("end_date", end_date)):
            if not isinstance(day, date) or isinstance(day, datetime):
                raise DataError(f"{name} must be a datetime.date, got {day!r}")
            check_date(day, name)
        if end_date < start_date:
            raise DataError(f"end_date {end_date} is before start_date {start_date}")
        return await self._run(symbol.upper(), start_date, end_date, audit=False)

    async def backfill_gaps(self, symbol: str, days_back: int = 30) -> dict[str, Any]:
        """Load only what is missing in the last ``days_back`` calendar days.

        Missing means: a trading day (exchange calendar: no weekends, no holidays) whose
        session has closed and that is not recorded complete, or that is recorded done but
        lost bars, or that holds fewer bars than its session has (early closes counted).
        Returns the same stats as :meth:`load_symbol_history`, over that window.
        """
        _check_symbol(symbol)
        if type(days_back) is not int or not 0 <= days_back <= 3653:
            raise DataError(f"days_back must be a whole number of days 0..3653, got {days_back!r}")
        async with HistoryClient(self.ib) as client:
            now = await client.server_time()
        today = now.astimezone(cal.EXCHANGE_TZ).date()
        return await self._run(symbol.upper(), today - timedelta(days=days_back), today, True)

    # --- one run ---------------------------------------------------------------------------

    async def _run(self, symbol: str, start: date, end: date, audit: bool) -> dict[str, Any]:
        counters = LoadCounters(symbol, start, end)
        # Every bar and the resume state are recorded per source (the connection's account).
        self.source_id = await register_source(self.db.engine, client_source(self.ib))
        stock_writer = StockBarWriter(self.db, source_id=self.source_id)
        option_writer = OptionBarWriter(self.db, source_id=self.source_id)
        lost: BrokerUnavailableError | None = None
        failed: AlcDataError | None = None
        planned = 0
        try:
            async with HistoryClient(self.ib) as client:
                counters.ib_errors = client.error_counts
                counters.ib_first_messages = client.first_messages
                now = await client.server_time()
                registered = await self._universe(symbol, now)
                requests = await self._plan(registered, start, end, now, audit, counters)
                plan = estimate(registered.universe.symbol, len(registered.contract_ids),
                                requests, self.config, counters.skipped_complete)  # fmt: skip
                if not self._approved(plan):
                    requests = []
                planned = len(requests)
                try:
                    await self._execute(client, requests, registered, counters,
                                        (stock_writer, option_writer))  # fmt: skip
                except* BrokerUnavailableError as group:
                    lost = _first_error(group)
                except* AlcDataError as group:  # one typed error, not a task group's traceback
                    failed = _first_error(group)
        finally:
            await asyncio.shield(_close_writers(stock_writer, option_writer))
        stats = counters.as_stats(
            stock_bars=stock_writer.counts.written,
            option_bars=option_writer.counts.written,
            history_requests=counters.pacing.sent,
            pacing_waits=counters.pacing.waits,
            ib_errors=counters.ib_errors,
        )
        self.last_stats = stats
        if counters.ib_errors:
            log.warning("%s: IB errors during the load: %s", symbol,
                        _error_summary(counters.ib_errors))  # fmt: skip
        if failed is not None:
            raise failed
        if lost is not None:
            raise LoadInterruptedError(
                f"the IB gateway {self.gateway} went away mid-load ({lost}): "
                f"{counters.requests_done} of {planned} requests done, "
                f"{stats['stock_bars_loaded'] + stats['option_bars_loaded']} bars stored. "
                "Run the same load again to resume: complete days are not requested again",
                stats,
            ) from lost
        log.info("history load %s", stats)
        return stats

    async def _universe(self, symbol: str, now: datetime) -> RegisteredUniverse:
        bands = self.settings.collection
        universe = await discover(
            self.ib,
            symbol,
            expiry_range_days=_first(self.config.expiry_range_days, bands.expiry_range_days),
            strike_range_percent=_first(
                self.config.strike_range_percent, bands.strike_range_percent
            ),
            today=now.astimezone(cal.EXCHANGE_TZ).date(),
            max_contracts=self.config.max_contracts,
        )
        return await register_universe(self.db, universe)

    def _series_of(self, instrument: Instrument) -> list[Series]:
        cfg = self.config
        if instrument.kind == "option":
            return [Series(w, cfg.bar_size) for w in cfg.option_what_to_show]
        return [Series(w, cfg.bar_size) for w in cfg.stock_what_to_show] + [
            Series(w, cfg.volatility_bar_size) for w in cfg.volatility_what_to_show
        ]

    def _sessions_per_request(self, series: Series) -> int:
        daily = series.bar_size.strip().lower().endswith(("day", "days"))
        cfg = self.config
        return cfg.sessions_per_daily_request if daily else cfg.sessions_per_request

    async def _plan(
        self,
        registered: RegisteredUniverse,
        start: date,
        end: date,
        now: datetime,
        audit: bool,
        counters: LoadCounters,
    ) -> list[RequestSpec]:
        days = closed_trading_days(start, end, now)
        live = _instruments(registered)
        expired = await expired_options(
            self.db, registered.underlying_id, registered.contract_ids.keys(), start, now
        )
        store = ProgressStore(self.db, self.source_id)
        complete = await self._complete(store, live + expired, days, audit)
        await self._record_expired(store, expired, days, complete, counters)
        requests, counters.skipped_complete = plan_requests(
            live, self._series_of, days, complete, self._sessions_per_request
        )
        log.info("%s: %d live options, %d expired known, %d trading days, %d requests",
                 registered.universe.symbol, len(live) - 1, len(expired), len(days),
                 len(requests))  # fmt: skip
        return requests

    async def _complete(
        self, store: ProgressStore, instruments: list[Instrument], days: list[date], audit: bool
    ) -> set[UnitKey]:
        if not days:
            return set()
        units = [
            (i.kind, i.instrument_id, s.what_to_show, s.bar_size, d)
            for i in instruments
            for s in self._series_of(i)
            for d in days
        ]
        statuses: dict[UnitKey, tuple[str, int]] = {}
        stored: dict[tuple[int, str, str, date], int] | None = {} if audit else None
        for kind in ("stock", "option"):
            ids = {i.instrument_id for i in instruments if i.kind == kind}
            statuses |= await store.statuses(kind, ids, days[0], days[-1])
            if stored is not None:
                stored |= await store.stored_counts(kind, ids, days[0], days[-1])
        return complete_units(units, statuses, stored)

    async def _record_expired(
        self,
        store: ProgressStore,
        expired: list[Instrument],
        days: list[date],
        complete: set[UnitKey],
        counters: LoadCounters,
    ) -> None:
        """Expired options: missing days become ``unavailable`` (nothing to ask IB for)."""
        outcomes = []
        for option in expired:
            for series in self._series_of(option):
                for day in days:
                    unit: UnitKey = (option.kind, option.instrument_id, series.what_to_show,
                                     series.bar_size, day)  # fmt: skip
                    if option.expiry is not None and day > option.expiry:
                        continue
                    if unit not in complete:
                        outcomes.append(DayOutcome(unit, "unavailable", 0, 0, EXPIRED))
        await store.record(outcomes)
        statuses = await store.statuses(
            "option", {o.instrument_id for o in expired}, days[0], days[-1]
        ) if days and expired else {}  # fmt: skip
        counters.unavailable_contracts |= {
            unit[1] for unit, (status, _) in statuses.items() if status == "unavailable"
        }

    # --- executing the plan ----------------------------------------------------------------

    async def _execute(
        self,
        client: HistoryClient,
        requests: list[RequestSpec],
        registered: RegisteredUniverse,
        counters: LoadCounters,
        writers: tuple[StockBarWriter, OptionBarWriter],
    ) -> None:
        pending = deque(requests)
        store = ProgressStore(self.db, self.source_id)
        loop = asyncio.get_running_loop()
        started = loop.time()
        contracts = len(registered.contract_ids)
        self._report(registered.universe.symbol, contracts, len(requests), counters, started)

        async def worker() -> None:
            while pending:
                spec = pending.popleft()
                result = await execute(client, self.scheduler, spec, self.config, counters.pacing,
                                       self.ledger)  # fmt: skip
                await self._store(result, store, writers, counters)
                counters.requests_done += 1
                self._log_new_errors(counters)
                self._report(registered.universe.symbol, contracts, len(requests), counters,
                             started)  # fmt: skip

        async with asyncio.TaskGroup() as group:
            for _ in range(min(self.config.concurrency, len(requests))):
                group.create_task(worker())

    async def _store(
        self,
        result: RequestResult,
        store: ProgressStore,
        writers: tuple[StockBarWriter, OptionBarWriter],
        counters: LoadCounters,
    ) -> None:
        spec = result.spec
        writer = writers[0] if spec.instrument.kind == "stock" else writers[1]
        rows = [_row(spec, bar) for bars in result.bars_by_day.values() for bar in bars]
        if rows:
            await writer.put_many(rows)
            await writer.flush()  # the bars are stored before their days are recorded
        await store.record(result.outcomes())
        if result.failed:
            counters.errors += 1
            log.warning(
                "%s %s %s: %s after %d attempts",
                spec.instrument.label,
                spec.series.what_to_show,
                spec.days,
                result.error,
                result.attempts,
            )
        if result.kind is AnswerKind.UNAVAILABLE and spec.instrument.kind == "option":
            counters.unavailable_contracts.add(spec.instrument.instrument_id)

    def _approved(self, estimate: LoadEstimate) -> bool:
        if self.on_plan is not None:
            return self.on_plan(estimate)
        large = " (a large load)" if estimate.large else ""
        log.log(logging.WARNING if estimate.large else logging.INFO, "%s%s",
                estimate.describe(), large)  # fmt: skip
        return True

    @staticmethod
    def _log_new_errors(counters: LoadCounters) -> None:
        """Each kind of IB error once (the running count is in the progress and the stats)."""
        for key, message in counters.unreported_errors():
            what = "no answer in time" if key == TIMEOUT_KEY else f"IB error {key}"
            log.warning("%s: %s: %s (further ones are counted, not logged)",
                        counters.symbol, what, message)  # fmt: skip

    def _report(
        self, symbol: str, contracts: int, planned: int, counters: LoadCounters, started: float
    ) -> None:
        if self.on_progress is None:
            return
        elapsed = asyncio.get_running_loop().time() - started
        done = counters.requests_done
        eta = elapsed / done * (planned - done) if done else None
        self.on_progress(
            LoadProgress(symbol, contracts, planned, done, counters.pacing.sent,
                         counters.pacing.waits, elapsed, eta, dict(counters.ib_errors))
        )  # fmt: skip


def _instruments(registered: RegisteredUniverse) -> list[Instrument]:
    """The underlying first, then the live options (nearest the money first)."""
    universe = registered.universe
    underlying = universe.underlying
    out = [
        Instrument("stock", registered.underlying_id, int(underlying.conId),
                   underlying.exchange or "SMART", universe.symbol, underlying)
    ]  # fmt: skip
    for c in universe.contracts:
        out.append(
            Instrument("option", registered.contract_ids[c.con_id], c.con_id,
                       c.contract.exchange or universe.exchange,
                       c.contract_symbol or str(c.con_id), c.contract, c.expiry)
        )  # fmt: skip
    return out


def _row(spec: RequestSpec, bar: Any) -> OptionBarRow | StockBarRow:
    row_type = StockBarRow if spec.instrument.kind == "stock" else OptionBarRow
    return row_type(
        spec.instrument.instrument_id, spec.series.what_to_show, spec.series.bar_size, bar.time,
        bar.open, bar.high, bar.low, bar.close, bar.volume, bar.wap, bar.bar_count,
    )  # fmt: skip


def _check_symbol(symbol: object) -> None:
    if not isinstance(symbol, str) or not symbol.strip():
        raise DataError(f"symbol must be a non-empty string, got {symbol!r}")


E = TypeVar("E", bound=BaseException)


def _first_error(group: BaseExceptionGroup[E]) -> E:
    """The first error of a group (nested groups included)."""
    first = group.exceptions[0]
    return _first_error(first) if isinstance(first, BaseExceptionGroup) else first


def _error_summary(counts: Counter[str]) -> str:
    """``"162 x 37, 200 x 2, timeout x 1"``."""
    return ", ".join(f"{key} x {n}" for key, n in sorted(counts.items()))


def _first(value: T | None, default: T) -> T:
    return default if value is None else value


async def _close_writers(*writers: StockBarWriter | OptionBarWriter) -> None:
    for writer in writers:
        await writer.close()
