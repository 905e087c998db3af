"""``OptionsDataCollector``: real-time option and underlying quotes from IB into the database.

Usage (the original documentation's shape)::

    collector = OptionsDataCollector(db_pool, ib)      # an asyncpg pool, Database or URL
    task = asyncio.create_task(collector.start_collection(["SPY", "QQQ", "AAPL"]))
    ...
    await collector.stop_collection()                  # flushes everything
    print(collector.get_stats()["ticks_collected"])

What it does, and where each part lives: discovery and registration per symbol (re-run every
``rediscover_every`` seconds, so the universe follows the underlying and passing expiries);
streaming with generic ticks 100/101/106 under a line budget with fair rotation
(:mod:`.lines`, :mod:`.streams`); sampling of changed contracts every interval
(:mod:`.sampling`, which defines "changed"); writing through the tick writers with an on-disk
spool for database outages (:mod:`.sink`, :mod:`.spool`); reconnecting to IB and recording
gaps (:mod:`.connection`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from alc_data.capture.universe import RegisteredUniverse, register_universe
from alc_data.collector.config import CollectorConfig
from alc_data.collector.connection import ConnectionKeeper
from alc_data.collector.dividends import DividendRecorder
from alc_data.collector.lines import LineScheduler
from alc_data.collector.sampling import Instrument, Sampler
from alc_data.collector.sink import OPTION_TABLE, STOCK_TABLE, RowSink
from alc_data.collector.spool import Spool, WaitingSpool, waiting_spools
from alc_data.collector.stats import build_stats
from alc_data.collector.streams import Streams
from alc_data.collector.supervision import Supervisor
from alc_data.config import Settings
from alc_data.db.database import Database
from alc_data.db.sources import SourceSpec, register_source
from alc_data.errors import AlcDataError, CollectorFailedError
from alc_data.ib.codes import CONNECTIVITY
from alc_data.ib.discovery import Universe
from alc_data.ib.gateway import MarketDataGateway, as_gateway
from alc_data.ib.provenance import MARKET_DATA_TYPES, connection_source

__all__ = ["OptionsDataCollector"]

log = logging.getLogger(__name__)


class OptionsDataCollector:
    """Collects option and underlying quotes from IB into the database.

    Args:
        db: a :class:`~alc_data.Database`, an ``asyncpg.Pool``, an ``AsyncEngine`` or a URL.
        ib: a connected ib_async ``IB`` client (TWS, IB Gateway or the simulator), or any
            :class:`~alc_data.ib.gateway.MarketDataGateway`.
        config: a :class:`CollectorConfig`, :class:`~alc_data.Settings`, a dict of
            :class:`CollectorConfig` fields over the database's Settings, or None (the
            database's Settings: ``Database.from_settings()`` reads the environment,
            ``Database.from_url()`` and a wrapped pool use the documented defaults).
    """

    def __init__(
        self,
        db: Any,
        ib: Any,
        config: CollectorConfig | Settings | dict[str, Any] | None = None,
    ) -> None:
        self.db = Database.coerce(db)
        self.ib: MarketDataGateway = as_gateway(ib)
        self.config = _config(config, self.db.settings)
        self.run_id = uuid.uuid4()
        self.symbols: list[str] = []
        self.universes: dict[str, RegisteredUniverse] = {}
        self.scheduler: LineScheduler[int] = LineScheduler(
            self.config.max_lines, dwell=self.config.dwell, retry_after=self.config.retry_after
        )
        self.sampler = Sampler(include_greeks=self.config.include_greeks,
                               settle=self.config.settle,
                               on_row=self.scheduler.record_row)  # fmt: skip
        self.streams = Streams(self.ib, self.scheduler, self.sampler,
                               option_ticks=self.config.option_generic_ticks,
                               underlying_ticks=self.config.underlying_generic_ticks)  # fmt: skip
        self.sink: RowSink | None = None
        #: Where this collector's rows are recorded as coming from (set when it starts).
        self.source: SourceSpec | None = None
        self.source_id: int | None = None
        self.dividends = DividendRecorder(self.db)
        self.keeper: ConnectionKeeper | None = None
        self.started_at: datetime | None = None
        self.rediscoveries = 0
        self.discovery_errors: dict[str, str] = {}
        self.waiting_spools: list[WaitingSpool] = []
        self.sample_seconds = 0.0
        self.failure: CollectorFailedError | None = None
        self._stop_within = self.config.stop_timeout
        self.supervisor = Supervisor(
            on_fatal=self._fatal, initial=self.config.restart_initial,
            maximum=self.config.restart_max, give_up_after=self.config.give_up_after,
        )  # fmt: skip
        self._active = False
        self._stop = asyncio.Event()
        self._done: asyncio.Event | None = None
        self._streaming = asyncio.Event()
        self._sink_task: asyncio.Task[None] | None = None

    # the documented API ---------------------------------------------------------------------

    async def start_collection(self, symbols: Sequence[str]) -> None:
        """Discover ``symbols``' universes and collect until :meth:`stop_collection`.

        A stop during discovery cancels it. The background tasks (sampling, writing,
        rediscovery) are supervised: one that raises is restarted with backoff, and one that
        keeps failing stops the collection with :class:`~alc_data.errors.CollectorFailedError`.

        Raises:
            AlcDataError: already running, no symbol could be discovered (IB's answer, or
                no answer within ``request_timeout``), or a task kept failing.
        """
        if self._active:
            raise AlcDataError("the collector is already running")
        self._active, self._done = True, asyncio.Event()
        self._stop.clear()
        self.failure = None
        self._stop_within = self.config.stop_timeout
        try:
            if await self._unless_stopped(self._start([s.upper() for s in symbols])):
                await self._stop.wait()
        finally:
            await self._shutdown()
            self._active = False
            self._done.set()
        if self.failure is not None:
            raise self.failure

    async def stop_collection(self, *, within: float | None = None) -> None:
        """Stop collecting and flush every accepted row (to the database, or to the spool
        when the database stays unavailable for ``within`` seconds, default
        ``stop_timeout``)."""
        if within is not None:
            self._stop_within = min(within, self.config.stop_timeout)
        self._stop.set()
        if self._done is not None:
            await self._done.wait()

    async def _unless_stopped(self, work: Any) -> bool:
        """Run ``work`` unless a stop comes first (it is then cancelled): True when it ran
        to its end (its error, if any, is raised)."""
        task = asyncio.ensure_future(work)
        stopped = asyncio.ensure_future(self._stop.wait())
        try:
            await asyncio.wait({task, stopped}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopped.cancel()
            if not task.done():
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
        if task.cancelled():
            return False
        task.result()
        return True

    def _fatal(self, name: str, exc: BaseException) -> None:
        failures = self.supervisor.states[name].failures
        self.failure = CollectorFailedError(
            f"the {name} task failed {failures} times in a row, so collection stopped: "
            f"{type(exc).__name__}: {exc}"
        )
        log.error("%s", self.failure)
        self._stop.set()

    def get_stats(self) -> dict[str, Any]:
        """Counters and state (see :func:`alc_data.collector.stats.build_stats` for keys)."""
        return build_stats(self)

    def coverage(self) -> dict[int, dict[str, Any]]:
        """Per-contract coverage by ``option_chains.id``: subscriptions, seconds subscribed,
        rows, first and last row."""
        now = time.monotonic()
        return {
            inst.db_id: self.scheduler.coverage[con_id].as_dict(now)
            for con_id, inst in self.sampler.instruments.items()
            if inst.is_option and con_id in self.scheduler.coverage
        }

    async def wait_streaming(self) -> None:
        """Wait until discovery is done and the first lines are requested."""
        await self._streaming.wait()

    @property
    def collection_active(self) -> bool:
        """True between the start of :meth:`start_collection` and the end of the stop."""
        return self._active

    # starting -------------------------------------------------------------------------------

    async def _start(self, symbols: list[str]) -> None:
        self.started_at = datetime.now(UTC)
        self.symbols = symbols
        client_id = self.ib.client_id
        identity = await self.db.identity()
        directory = self.config.spool_directory(client_id, identity.key)
        spool = Spool(directory, max_bytes=self.config.spool_max_bytes, run_id=str(self.run_id))
        spool.open((identity.key, identity.describe()))
        self.waiting_spools = waiting_spools(self.config.spool_root(), exclude=directory)
        for waiting in self.waiting_spools:
            log.warning("a spool for another database is waiting: %s", waiting.describe())
        self.source = connection_source(self.ib.accounts(), self.config.market_data_type)
        self.source_id = await register_source(self.db.engine, self.source)
        self.sink = RowSink(self.db, spool, interval=self.config.interval,
                            batch_size=self.config.batch_size,
                            write_timeout=self.config.write_timeout,
                            source_id=self.source_id)  # fmt: skip
        self._sink_task = self.supervisor.spawn("collector-sink", self.sink.run)
        self.keeper = ConnectionKeeper(
            self.ib, self.db, run_id=self.run_id, on_reconnected=self._resubscribe,
            initial=self.config.reconnect_initial, maximum=self.config.reconnect_max,
        )  # fmt: skip
        self.ib.set_market_data_type(self.config.market_data_type)
        await self._discover_all()
        if not self.universes:
            raise AlcDataError(f"no symbol could be discovered: {self.discovery_errors}")
        self.ib.listen(on_updates=self.sampler.on_updates, on_error=self._on_error,
                       on_disconnected=self._on_disconnected)  # fmt: skip
        self.streams.apply(time.monotonic())
        self._streaming.set()
        self.supervisor.spawn("collector-sample", self._sample_loop)
        self.supervisor.spawn("collector-rediscover", self._rediscover_loop)
        self.supervisor.spawn("collector-dividends", self._dividends_loop)

    async def _discover_all(self) -> None:
        for symbol in self.symbols:
            try:
                universe = await self.ib.discover(
                    symbol,
                    expiry_range_days=self.config.expiry_range_days,
                    strike_range_percent=self.config.strike_range_percent,
                    max_contracts=self.config.max_contracts_per_symbol,
                    answer_within=self.config.request_timeout,
                )  # fmt: skip
                registered = await register_universe(self.db, universe)
            except (AlcDataError, OSError, TimeoutError) as exc:
                self.discovery_errors[symbol] = str(exc)
                log.error("discovery of %s failed: %s (keeping its previous universe)",
                          symbol, exc)  # fmt: skip
                continue
            self.discovery_errors.pop(symbol, None)
            self.universes[symbol] = registered
        self._set_universe()

    def _set_universe(self) -> None:
        pinned: list[int] = []
        options: list[tuple[float, int]] = []
        for symbol, reg in self.universes.items():
            universe: Universe = reg.universe
            und = int(universe.underlying.conId)
            self.sampler.instruments[und] = Instrument(und, reg.underlying_id, symbol, False,
                                                       universe.underlying)  # fmt: skip
            pinned.append(und)
            for c in universe.contracts:
                db_id = reg.contract_ids[c.con_id]
                self.sampler.instruments[c.con_id] = Instrument(c.con_id, db_id, symbol, True,
                                                                c.contract)  # fmt: skip
                options.append((c.moneyness, c.con_id))
        options.sort()
        self.scheduler.set_universe(pinned, [con_id for _, con_id in options])

    # running --------------------------------------------------------------------------------

    async def _sample_loop(self) -> None:
        interval = self.config.interval
        line_every = max(interval, min(1.0, self.config.dwell / 4))
        next_lines = time.monotonic() + line_every
        loop = asyncio.get_running_loop()
        deadline = loop.time()
        while True:
            deadline = max(deadline + interval, loop.time())
            await asyncio.sleep(deadline - loop.time())
            self._sample_once()
            now = time.monotonic()
            if now >= next_lines:
                next_lines = now + line_every
                self.streams.apply(now)

    def _sample_once(self) -> None:
        started = time.perf_counter()
        options, stocks = self.sampler.sample(time.monotonic())
        assert self.sink is not None
        self.sink.submit(OPTION_TABLE, options)
        self.sink.submit(STOCK_TABLE, stocks)
        self.sample_seconds += time.perf_counter() - started

    async def _dividends_loop(self) -> None:
        while True:
            await asyncio.sleep(self.config.dividends_every)
            underlyings = [
                (inst.db_id, self.sampler.tickers[con_id])
                for con_id, inst in self.sampler.instruments.items()
                if not inst.is_option and con_id in self.sampler.tickers
            ]
            with contextlib.suppress(AlcDataError):  # the database is down: next time
                await self.dividends.record(underlyings)

    async def _rediscover_loop(self) -> None:
        while True:
            await asyncio.sleep(self.config.rediscover_every)
            if self.keeper is not None:
                await self.keeper.store_gaps()
            if not self.ib.is_connected():
                continue
            await self._discover_all()
            self.rediscoveries += 1

    def _on_error(self, req_id: int, code: int, message: str, con_id: int, what: str) -> None:
        now = time.monotonic()
        if code in CONNECTIVITY and self.keeper is not None:
            if self.keeper.on_connectivity(code):
                self.streams.lost_all(now)  # 1101: IB dropped the lines; request them again
                self.streams.apply(now)
            return
        self.streams.on_error(code, message, con_id, what, now)

    def _on_disconnected(self) -> None:
        if self._stop.is_set() or self.keeper is None:
            return
        self.streams.lost_all(time.monotonic())
        self.keeper.on_disconnected()

    async def _resubscribe(self) -> None:
        self.ib.set_market_data_type(self.config.market_data_type)
        self.streams.apply(time.monotonic())

    # stopping -------------------------------------------------------------------------------

    async def _shutdown(self) -> None:
        if self.keeper is not None:
            await self.keeper.stop()
        sink_task, self._sink_task = self._sink_task, None
        if self.sink is not None and sink_task is not None:
            self.sink.stop_loop()  # its current round ends; cancelling it could split a flush
            await asyncio.wait({sink_task}, timeout=self._stop_within)
        await self.supervisor.stop()
        with contextlib.suppress(Exception):
            self.ib.stop_listening()
        if self.sink is not None:
            with contextlib.suppress(Exception):  # counted by the sampler; never lose the rest
                self._sample_once()  # what changed since the last interval
            with contextlib.suppress(Exception):
                self.streams.cancel_all(time.monotonic())
            await self.sink.close(within=self._stop_within)
        if self.keeper is not None:
            await self.keeper.store_gaps()
        await self._record_market_data_types()
        self._streaming.clear()

    async def _record_market_data_types(self) -> None:
        """Add the market-data types IB reported (message 58) to the source's details."""
        if self.source is None or not self.sampler.market_data_types:
            return
        seen = sorted({MARKET_DATA_TYPES.get(t, str(t)) for t in self.sampler.market_data_types})
        if self.sink is not None and self.sink.outage_since is not None:
            log.warning("database unavailable: the market-data types seen (%s) are not recorded",
                        seen)  # fmt: skip
            return
        spec = SourceSpec(self.source.name, self.source.kind, {"market_data_types_seen": seen})
        within = self.config.write_timeout or self.db.settings.collection.write_timeout_seconds
        try:  # bounded: a database that hangs must not hold up the stop
            await asyncio.wait_for(register_source(self.db.engine, spec), timeout=within)
        except (AlcDataError, TimeoutError) as exc:  # the rows are stored; only this detail
            log.warning("could not record the market-data types seen (%s): %r", seen, exc)


def _config(
    config: CollectorConfig | Settings | dict[str, Any] | None, settings: Settings
) -> CollectorConfig:
    if isinstance(config, CollectorConfig):
        return config
    if isinstance(config, Settings):
        return CollectorConfig.from_settings(config)
    return CollectorConfig.from_settings(settings, **(config or {}))
