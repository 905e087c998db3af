"""The import pipeline shared by every format: files -> records -> rows -> the COPY writers.

For each file: skip it when its content was imported before (``import_files``), else mark it
``running``, stream its records from the format's parser (bounded memory: one record at a
time, rows handed to the writers, which hold at most ``max_pending + parallel * chunk_rows``),
resolve contracts by natural key or alias, filter by symbol and time, and write idempotently
(COPY into staging, ``ON CONFLICT DO NOTHING``), then mark the file ``done`` with its counts.
A crash leaves the file ``running``: the next import reads it again from its start and the
idempotent writes make the final state the same as one uninterrupted import.

Timestamps are stored to the microsecond; quotes of one instrument that fall in the same
microsecond (DBN's nanoseconds, or vendor duplicates) are collapsed: the last of them (the
state at the end of that microsecond) is written and the others are counted as ``collapsed``;
trades in one microsecond become one trade with their sizes added and the last price. Only
consecutive rows of an instrument are collapsed (vendor files are in time order); a row for an
instant already stored is a ``duplicate``. Trades go under their own source
(:func:`trades_source`).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AsyncExitStack
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO, Protocol

from alc_data.db.database import Database
from alc_data.db.rows import OptionBarRow, OptionTick, StockBarRow, StockTick
from alc_data.db.sources import SourceSpec, register_source
from alc_data.errors import InvalidRowError
from alc_data.importers.contracts import ContractResolver
from alc_data.importers.ledger import ImportLedger, fingerprint
from alc_data.importers.progress import ProgressHook, ProgressMeter
from alc_data.importers.records import (
    Alias,
    ContractKey,
    ContractRef,
    Definition,
    Event,
    OptionBarEvent,
    OptionTickEvent,
    OptionTradeEvent,
    Rejected,
    StockBarEvent,
    StockTickEvent,
    StockTradeEvent,
)
from alc_data.importers.summary import BadRecord, ImportSummary
from alc_data.repositories.buffered_writer import BufferedWriter
from alc_data.repositories.writers import (
    OptionBarWriter,
    StockBarWriter,
    StockTickWriter,
    TickWriter,
)

log = logging.getLogger(__name__)


class RecordParser(Protocol):
    """A format: turns an open file into records, each a list of events."""

    format_name: str

    def records(self, raw: BinaryIO, path: Path) -> Iterator[list[Event]]:
        """The file's records in order (one list per record; ``[Rejected]`` for a bad one)."""
        ...


@dataclass(frozen=True)
class ImportOptions:
    """What to import: ``symbols`` (underlyings; None = all), ``[start, end)`` (None = open),
    ``again`` (read files already imported; their rows count as duplicates)."""

    symbols: frozenset[str] | None = None
    start: datetime | None = None
    end: datetime | None = None
    again: bool = False
    chunk_rows: int | None = None
    progress: ProgressHook | None = None


class _FileRun:
    """The state of one file's import: writers, the microsecond-collapse buffers, counts."""

    def __init__(
        self,
        db: Database,
        resolver: ContractResolver,
        summary: ImportSummary,
        options: ImportOptions,
        source_id: int,
        trades_source_id: int,
        path: Path,
    ) -> None:
        self.resolver = resolver
        self.summary = summary
        self.options = options
        self.path = path
        self.record = 0
        kw = {
            "idempotent": True,
            "source_id": source_id,
            "on_reject": self._writer_reject,
            "chunk_rows": options.chunk_rows,
        }
        self.ticks = TickWriter(db, **kw)  # type: ignore[arg-type]
        self.stock_ticks = StockTickWriter(db, **kw)  # type: ignore[arg-type]
        self.option_bars = OptionBarWriter(db, **kw)  # type: ignore[arg-type]
        self.stock_bars = StockBarWriter(db, **kw)  # type: ignore[arg-type]
        trades_kw = {**kw, "source_id": trades_source_id}
        self.trades = TickWriter(db, **trades_kw)  # type: ignore[arg-type]
        self.stock_trades = StockTickWriter(db, **trades_kw)  # type: ignore[arg-type]
        self.writers: tuple[BufferedWriter, ...] = (
            self.ticks,
            self.stock_ticks,
            self.option_bars,
            self.stock_bars,
            self.trades,
            self.stock_trades,
        )
        #: No symbol or time filter: quotes may take :meth:`_quick_tick`.
        self._fast = options.symbols is None and options.start is None and options.end is None
        self.last_tick: dict[int, OptionTick] = {}
        self.last_trade: dict[int, OptionTick] = {}
        self.last_stock: dict[int, StockTick] = {}
        self.last_stock_trade: dict[int, StockTick] = {}

    def _writer_reject(self, error: InvalidRowError) -> None:
        self.summary.reject(BadRecord(self.path, self.record, "invalid_row", str(error)))

    def _bad(self, reason: str, message: str) -> None:
        self.summary.reject(BadRecord(self.path, self.record, reason, message))

    def _outside(self, at: datetime) -> bool:
        start, end = self.options.start, self.options.end
        return (start is not None and at < start) or (end is not None and at >= end)

    def _unwanted(self, symbol: str) -> bool:
        symbols = self.options.symbols
        return symbols is not None and symbol not in symbols

    async def _contract(self, ref: ContractRef, at: datetime) -> int | None:
        if isinstance(ref, Alias):
            found = await self.resolver.alias(ref, at.date())
            if found is None:
                self._bad("unknown_instrument", f"no definition of instrument {ref.value}")
            return found
        return await self.resolver.option(ref)

    async def handle(self, events: Sequence[Event]) -> None:
        """Write one record's events (or count it rejected / filtered)."""
        if len(events) == 1 and type(events[0]) is OptionTickEvent and self._fast:
            await self._quick_tick(events[0])
            return
        filtered = False
        if len(events) > 1 and type(events[0]) is Definition:  # a block of definitions
            keys = [e.key for e in events if isinstance(e, Definition)]
            await self.resolver.options([k for k in keys if not self._unwanted(k.underlying)])
        for event in events:
            if isinstance(event, Rejected):
                self._bad(event.reason, event.message)
                return
            if isinstance(event, Definition):
                if not self._unwanted(event.key.underlying):
                    await self.resolver.define(event.alias, event.key, event.valid_from)
                continue
            if self._outside(event.time):
                filtered = True
                continue
            if isinstance(event, StockTickEvent | StockTradeEvent | StockBarEvent):
                if self._unwanted(event.stock.symbol):
                    filtered = True
                    continue
                await self._stock_row(event, await self.resolver.stock(event.stock))
                continue
            ref = event.contract
            if isinstance(ref, ContractKey) and self._unwanted(ref.underlying):
                filtered = True  # never created: a filtered import adds no contracts
                continue
            contract_id = (
                self.resolver.cached_alias(ref)
                if type(ref) is Alias
                else self.resolver.cached_option(ref)  # type: ignore[arg-type]
            )
            if contract_id is None:
                contract_id = await self._contract(ref, event.time)
            if contract_id is None:
                return
            if self._unwanted(self.resolver.symbol_of[contract_id]):
                filtered = True
                continue
            await self._option_row(event, contract_id)
        if filtered:
            self.summary.filtered += 1

    async def stream(self, records: Iterator[list[Event]], meter: ProgressMeter) -> int:
        """Handle every record; returns how many there were. The usual record (one quote of
        a known contract, no filters) is handled inline: this loop is the importer's hot path.
        """
        rows = 0
        held = self.last_tick
        put = self.ticks.put
        cached_alias, cached_option = self.resolver.cached_alias, self.resolver.cached_option
        next_report = meter.every
        try:
            for events in records:
                rows += 1
                if self._fast and len(events) == 1 and type(events[0]) is OptionTickEvent:
                    event: OptionTickEvent = events[0]
                    ref = event.contract
                    contract_id = (
                        cached_alias(ref) if type(ref) is Alias else cached_option(ref)  # type: ignore[arg-type]
                    )
                    if contract_id is not None:
                        self.record = rows
                        row = OptionTick(contract_id, event.time, *event.fields)  # type: ignore[arg-type]
                        previous = held.get(contract_id)
                        if previous is not None:
                            if previous.time == row.time:
                                self.summary.collapsed += 1
                                row = _merge_quote(previous, row)
                            else:
                                await put(previous)
                        held[contract_id] = row
                        if rows >= next_report:
                            meter.tick(rows)
                            next_report = rows + meter.every
                        continue
                self.record = rows
                await self.handle(events)
                if rows >= next_report:
                    meter.tick(rows)
                    next_report = rows + meter.every
        finally:
            self.summary.rows_read += rows
        return rows

    async def _quick_tick(self, event: OptionTickEvent) -> None:
        """The common case (one quote, no filters, a known contract) without the general
        path's checks; anything else goes the general way."""
        ref = event.contract
        contract_id = (
            self.resolver.cached_alias(ref)
            if type(ref) is Alias
            else self.resolver.cached_option(ref)  # type: ignore[arg-type]
        )
        if contract_id is None:
            self._fast = False
            try:
                await self.handle([event])
            finally:
                self._fast = True
            return
        row = OptionTick(contract_id, event.time, *event.fields)  # type: ignore[arg-type]
        previous = self.last_tick.get(contract_id)
        if previous is not None:
            if previous.time == row.time:
                self.summary.collapsed += 1
                row = _merge_quote(previous, row)
            else:
                await self.ticks.put(previous)
        self.last_tick[contract_id] = row

    async def _option_row(
        self, event: OptionTickEvent | OptionTradeEvent | OptionBarEvent, contract_id: int
    ) -> None:
        if isinstance(event, OptionBarEvent):
            bar = OptionBarRow(contract_id, event.what_to_show, event.bar_size, event.time,
                               *event.fields)  # type: ignore[arg-type]  # fmt: skip
            await self.option_bars.put(bar)
            return
        row = OptionTick(contract_id, event.time, *event.fields)  # type: ignore[arg-type]
        if isinstance(event, OptionTradeEvent):
            await self._collapse(self.last_trade, contract_id, row, self.trades, _add_last_size)
        else:
            await self._collapse(self.last_tick, contract_id, row, self.ticks, _merge_quote)

    async def _stock_row(
        self, event: StockTickEvent | StockTradeEvent | StockBarEvent, underlying_id: int
    ) -> None:
        if isinstance(event, StockBarEvent):
            bar = StockBarRow(underlying_id, event.what_to_show, event.bar_size, event.time,
                              *event.fields)  # type: ignore[arg-type]  # fmt: skip
            await self.stock_bars.put(bar)
            return
        row = StockTick(underlying_id, event.time, *event.fields)  # type: ignore[arg-type]
        if isinstance(event, StockTradeEvent):
            await self._collapse(
                self.last_stock_trade, underlying_id, row, self.stock_trades, _add_volume
            )
        else:
            await self._collapse(self.last_stock, underlying_id, row, self.stock_ticks, None)

    async def _collapse(
        self,
        held: dict[int, Any],
        key: int,
        row: Any,
        writer: BufferedWriter,
        merge: Callable[[Any, Any], Any] | None,
    ) -> None:
        """Hold ``row`` until a later microsecond of its instrument arrives (see module doc);
        quotes: the last of a microsecond wins; trades: sizes add up, the last price wins."""
        previous = held.get(key)
        if previous is not None:
            if previous.time == row.time:
                self.summary.collapsed += 1
                if merge is not None:
                    row = merge(previous, row)
            else:
                await writer.put(previous)
        held[key] = row

    async def drain(self) -> None:
        """Hand the rows held for the microsecond collapse to the writers; save aliases."""
        await self.resolver.save_aliases()
        for held, writer in (
            (self.last_tick, self.ticks),
            (self.last_trade, self.trades),
            (self.last_stock, self.stock_ticks),
            (self.last_stock_trade, self.stock_trades),
        ):
            await writer.put_many(held.values())
            held.clear()


def _merge_quote(previous: OptionTick, row: OptionTick) -> OptionTick:
    """The last quote of a microsecond wins; a statistic (open interest alone) joins it."""
    if row.bid_price is None and row.ask_price is None and row.last_price is None:
        return previous._replace(open_interest=row.open_interest)
    return row


def _add_last_size(previous: OptionTick, row: OptionTick) -> OptionTick:
    if previous.last_size is None or row.last_size is None:
        return row
    return row._replace(last_size=previous.last_size + row.last_size)


def _add_volume(previous: StockTick, row: StockTick) -> StockTick:
    if previous.volume is None or row.volume is None:
        return row
    return row._replace(volume=previous.volume + row.volume)


def trades_source(source: SourceSpec) -> SourceSpec:
    """The source trades of ``source`` are written under (``NAME-trades``).

    Trades are kept apart from quotes: a tick's key is (contract, source, time), so a trade
    and a quote of one source in the same microsecond would collide; under their own source
    they never do, and a read chooses one of them (never a silent mix).
    """
    return SourceSpec(f"{source.name[:57]}-trades", source.kind, {**source.details,
                      "trades_of": source.name})  # fmt: skip


async def import_files(
    db: Database,
    parser: RecordParser,
    paths: Iterable[Path],
    *,
    source: SourceSpec,
    options: ImportOptions | None = None,
) -> ImportSummary:
    """Import ``paths`` with ``parser`` as rows of ``source`` (see the module doc)."""
    options = options or ImportOptions()
    source_id = await register_source(db.engine, source)
    trades_source_id = await register_source(db.engine, trades_source(source))
    summary = ImportSummary(format=parser.format_name, source=source.name)
    resolver = ContractResolver(db, source_id)
    ledger = ImportLedger(db, source_id, parser.format_name)
    for path in paths:
        path = Path(path)
        summary.files += 1
        print_ = fingerprint(path)
        if not options.again and await ledger.is_done(print_):
            summary.files_skipped += 1
            log.info("%s was imported before: skipped", path)
            continue
        await ledger.begin(print_, path)
        before = (summary.rows_read, dict(summary.rejected))
        written, duplicates = await _import_file(
            db, parser, path, resolver, summary, options, (source_id, trades_source_id)
        )
        summary.rows_written += written
        summary.duplicates += duplicates
        file_rejected = {
            reason: n - before[1].get(reason, 0)
            for reason, n in summary.rejected.items()
            if n > before[1].get(reason, 0)
        }
        await ledger.finish(
            print_,
            rows_read=summary.rows_read - before[0],
            rows_written=written,
            duplicates=duplicates,
            rejected=file_rejected,
        )
    summary.contracts_created = resolver.created
    return summary


async def _import_file(
    db: Database,
    parser: RecordParser,
    path: Path,
    resolver: ContractResolver,
    summary: ImportSummary,
    options: ImportOptions,
    sources: tuple[int, int],
) -> tuple[int, int]:
    resolver.forget_aliases()
    run = _FileRun(db, resolver, summary, options, *sources, path)
    with path.open("rb") as raw:
        meter = ProgressMeter(path, raw, os.fstat(raw.fileno()).st_size, options.progress)
        async with AsyncExitStack() as stack:
            for writer in run.writers:
                await stack.enter_async_context(writer)
            rows = await run.stream(parser.records(raw, path), meter)
            await run.drain()
        meter.tick(rows, final=True)
    written = sum(w.counts.written for w in run.writers)
    duplicates = sum(w.counts.duplicates for w in run.writers)
    return written, duplicates
