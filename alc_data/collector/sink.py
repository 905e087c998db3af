"""Where sampled rows go: the tick writers while the database is up, the spool while it is not.

One task (:meth:`RowSink.run`) owns the cadence: every ``interval`` (or as soon as
``batch_size`` rows wait) it hands the waiting rows to the writers and flushes them, so that
it knows exactly which rows each commit stored (and their latency). States:

- **live**: rows are checked and written with a (non-idempotent)
  :class:`~alc_data.repositories.chunked_copy.ChunkedCopy` of their table;
- **outage**: a write left rows unwritten (the database refused the connection, did not
  answer within ``write_timeout``, or the write failed for an internal reason): those rows
  are appended to the spool, and so is every new batch; every ``probe`` seconds (backing off
  to 5 s) the oldest spool segment is replayed through the *idempotent* path and deleted once
  stored. When the spool is empty, rows go live again. A collector started over a non-empty
  spool (a crash) begins in this state.

The spool's disk work (appends, fsyncs, reads) runs in a worker thread, never on the event
loop. Every failure is counted by kind in :attr:`RowSink.errors` and logged once per kind.

Counting: a row is *inserted* once the database confirmed it (new, or found already stored by
an idempotent replay, which happens only when a commit's acknowledgement was lost); rows a
previous run left in the spool are counted as *recovered*, not as this run's. Once the sink
is closed, ``collected == inserted + spooled_left + shed + rejected`` for this run's rows
(``spooled_left``: still in the spool for the next run), every rejected row named in
:attr:`RowSink.rejections`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from alc_data.collector.spool import Appended, Spool
from alc_data.db.database import Database
from alc_data.errors import AlcDataError, DatabaseUnavailableError, InternalError, InvalidRowError
from alc_data.repositories.chunked_copy import ChunkedCopy, CopyOutcome
from alc_data.repositories.copy_target import CopyTarget
from alc_data.repositories.writers import StockTickWriter, TickWriter

__all__ = ["OPTION_TABLE", "STOCK_TABLE", "RowSink", "TableCounts"]

log = logging.getLogger(__name__)

OPTION_TABLE = "market_data_ticks"
STOCK_TABLE = "stock_data_ticks"
_MAX_PROBE = 5.0


@dataclass
class TableCounts:
    """What happened to the rows of one table."""

    collected: int = 0
    inserted: int = 0
    spooled: int = 0
    replayed: int = 0
    recovered: int = 0
    shed: int = 0
    rejected: int = 0

    def as_dict(self) -> dict[str, int]:
        """JSON-friendly view."""
        return dict(self.__dict__)


@dataclass
class _Table:
    name: str
    copy: ChunkedCopy
    columns: tuple[str, ...]
    waiting: list[Any] = field(default_factory=list)
    writing: int = 0
    counts: TableCounts = field(default_factory=TableCounts)


class RowSink:
    """Writes collected rows, spooling them through database outages (see the module doc).

    Args:
        db: the database.
        spool: an opened :class:`~alc_data.collector.spool.Spool`.
        interval: seconds between flushes (the collection interval).
        batch_size: waiting rows that trigger a flush before the interval.
        probe: first wait between replay attempts during an outage.
    """

    def __init__(
        self,
        db: Database,
        spool: Spool,
        *,
        interval: float,
        batch_size: int,
        probe: float = 0.5,
        write_timeout: float | None = None,
        source_id: int | None = None,
    ) -> None:
        self.db = db
        self.spool = spool
        self.source_id = source_id
        self.interval = interval
        self.batch_size = batch_size
        self.probe = probe
        self.write_timeout = write_timeout or db.settings.collection.write_timeout_seconds
        self.errors: dict[str, int] = {}
        self.rejections: deque[InvalidRowError] = deque(maxlen=1000)
        self.outage_since: datetime | None = None
        self.outages = 0
        self.last_error: str | None = None
        self.latencies_ms: deque[float] = deque(maxlen=200_000)
        self.flush_seconds = 0.0
        self._tables = {
            OPTION_TABLE: self._table(TickWriter.target),
            STOCK_TABLE: self._table(StockTickWriter.target),
        }
        self._wake = asyncio.Event()
        self._next_probe = 0.0
        self._probe_wait = probe
        self._stopping = False
        if len(spool):
            self._enter_outage("rows left in the spool by an earlier run", fresh_start=True)

    def _table(self, target: CopyTarget) -> _Table:
        chunk_rows = self.db.settings.collection.copy_chunk_rows
        copy = ChunkedCopy(
            self.db,
            target,
            chunk_rows=chunk_rows,
            write_timeout=self.write_timeout,
            source_id=self.source_id,
        )
        return _Table(target.table, copy, target.columns)

    # producers --------------------------------------------------------------------------

    def submit(self, table: str, rows: Sequence[Any]) -> None:
        """Accept rows of ``table`` (``market_data_ticks`` or ``stock_data_ticks``)."""
        if not rows:
            return
        t = self._tables[table]
        t.waiting.extend(rows)
        t.counts.collected += len(rows)
        if sum(len(x.waiting) for x in self._tables.values()) >= self.batch_size:
            self._wake.set()

    # state ------------------------------------------------------------------------------

    @property
    def live(self) -> bool:
        """True when rows go straight to the database."""
        return self.outage_since is None

    def counts(self, table: str) -> TableCounts:
        """The counters of ``table``."""
        return self._tables[table].counts

    def buffered(self) -> int:
        """Rows accepted and held in memory (waiting or being written)."""
        return sum(len(t.waiting) + t.writing for t in self._tables.values())

    # the loop ---------------------------------------------------------------------------

    async def run(self) -> None:
        """Flush until :meth:`close` (call it to stop; it flushes what is left)."""
        while not self._stopping:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self.interval)
            self._wake.clear()
            try:
                await self.step()
            except Exception as exc:  # never let the loop die: the rows stay accounted for
                self.last_error = repr(exc)
                if self._count_error(f"sink:{type(exc).__name__}"):
                    log.exception("row sink step failed (counted; logged once per kind)")

    def _count_error(self, kind: str) -> bool:
        """Count one error of ``kind``; True the first time (the caller logs it then)."""
        self.errors[kind] = self.errors.get(kind, 0) + 1
        return self.errors[kind] == 1

    async def step(self) -> None:
        """One round: write (or spool) what waits, and replay the spool during an outage."""
        if self.live:
            await self._write_live()
        if not self.live:
            await self._spool_waiting()
            if time.monotonic() >= self._next_probe:
                await self._replay()

    async def _write_live(self) -> None:
        started = time.perf_counter()
        for t in self._tables.values():
            if not t.waiting:
                continue
            if not self.live:
                break  # an earlier table failed: step() spools the rest
            batch, t.waiting = t.waiting, []
            rows = self._checked(t, batch)
            t.writing = len(rows)
            try:
                outcome = await t.copy.write(rows, idempotent=False)
            finally:
                t.writing = 0
            self._count(t, outcome)
            if outcome.unwritten:
                await self._to_spool(t, outcome.unwritten)
                self._count_error(_kind(outcome.error))
                self._enter_outage(f"{t.name}: {outcome.error}")
                continue
            self._record_latency(batch)
        self.flush_seconds += time.perf_counter() - started

    def _checked(self, t: _Table, rows: Sequence[Any]) -> list[Any]:
        """The rows that pass the table's checks; the others are rejected by name."""
        accept = t.copy.checker.accept
        checked = []
        for row in rows:
            try:
                checked.append(accept(row)[0])
            except InvalidRowError as refusal:
                t.counts.rejected += 1
                self.rejections.append(refusal)
        return checked

    def _count(self, t: _Table, outcome: CopyOutcome) -> None:
        """Count what a live write stored and rejected."""
        t.counts.inserted += outcome.written + outcome.duplicates
        t.counts.rejected += len(outcome.rejected)
        self.rejections.extend(outcome.rejected)

    def _record_latency(self, batch: list[Any]) -> None:
        now = datetime.now(UTC)
        add = self.latencies_ms.append
        for row in batch:
            add((now - row[1]).total_seconds() * 1000.0)

    async def _spool_waiting(self) -> None:
        for t in self._tables.values():
            if t.waiting:
                batch, t.waiting = t.waiting, []
                await self._to_spool(t, batch)

    async def _to_spool(self, t: _Table, rows: list[Any]) -> None:
        if not rows:
            return
        done: Appended = await asyncio.to_thread(self.spool.append, t.name, t.columns, rows)
        t.counts.spooled += done.spooled
        t.counts.shed += done.shed
        t.counts.rejected += len(done.refused)
        for refusal in done.refused:
            self.rejections.append(refusal)
            if self._count_error("unspoolable_row"):
                log.error("a row cannot be written to the spool and is rejected: %s", refusal)

    def _enter_outage(self, reason: str, *, fresh_start: bool = False) -> None:
        self.last_error = reason
        if self.outage_since is None:
            self.outage_since = datetime.now(UTC)
            self.outages += 0 if fresh_start else 1
            self._probe_wait = self.probe
            self._next_probe = 0.0 if fresh_start else time.monotonic() + self.probe
            log.warning("database unavailable (%s): spooling rows to %s", reason,
                        self.spool.directory)  # fmt: skip

    async def _replay(self) -> None:
        """Replay spool segments (oldest first) until it is empty or a write fails."""
        while True:
            seg = await asyncio.to_thread(self.spool.oldest)
            if seg is None:
                self._leave_outage()
                return
            t = self._tables[seg.table]
            content = await asyncio.to_thread(self.spool.read, seg)
            if content.unreadable:
                self._count_error("spool_segment_damaged")
            rejected_before = t.counts.rejected
            rows = self._checked(t, content.rows)
            outcome = await t.copy.write(rows, idempotent=True)
            if outcome.unwritten:  # the segment is still on disk: counted when it is stored
                t.counts.rejected = rejected_before
                self._count_error(_kind(outcome.error))
                self._retry_later(str(outcome.error))
                return
            stored = outcome.written + outcome.duplicates
            t.counts.rejected += len(outcome.rejected)
            self.rejections.extend(outcome.rejected)
            if seg.run_id == self.spool.run_id:
                t.counts.replayed += stored
                t.counts.inserted += stored
            else:
                t.counts.recovered += stored
            await asyncio.to_thread(self.spool.remove, seg, content)

    def _retry_later(self, reason: str) -> None:
        self.last_error = reason
        self._probe_wait = min(self._probe_wait * 2, _MAX_PROBE)
        self._next_probe = time.monotonic() + self._probe_wait

    def _leave_outage(self) -> None:
        if self.outage_since is not None:
            seconds = (datetime.now(UTC) - self.outage_since).total_seconds()
            log.warning("database back after %.1f s: spool replayed", seconds)
        self.outage_since = None

    # stopping ---------------------------------------------------------------------------

    def stop_loop(self) -> None:
        """Make :meth:`run` return after its current round (then call :meth:`close`)."""
        self._stopping = True
        self._wake.set()

    async def close(self, *, within: float = 10.0) -> None:
        """Write what waits; during an outage keep trying for ``within`` seconds, then leave
        the rest in the (sealed) spool for the next run. Every database call made here ends
        by the deadline, so that ``close`` returns within about ``within`` seconds even when
        the database hangs."""
        self._stopping = True
        self._wake.set()
        deadline = time.monotonic() + within
        self._bound_writes(deadline)
        await self.step()
        while not self.live and time.monotonic() < deadline:
            await asyncio.sleep(min(self._probe_wait, max(0.0, deadline - time.monotonic())))
            self._next_probe = 0.0
            self._bound_writes(deadline)
            await self.step()
        if not self.live:
            await self._spool_waiting()
            log.error("database still unavailable: %d rows stay in the spool %s for the next "
                      "run", self.spool.rows, self.spool.directory)  # fmt: skip
        await asyncio.to_thread(self.spool.close)

    def _bound_writes(self, deadline: float) -> None:
        remaining = max(0.2, deadline - time.monotonic())
        for t in self._tables.values():
            t.copy.write_timeout = min(self.write_timeout, remaining)


def _kind(error: AlcDataError | None) -> str:
    """The counted kind of a write that left rows unwritten."""
    if isinstance(error, InternalError):
        return "internal"
    if isinstance(error, DatabaseUnavailableError) or error is None:
        return "database_unavailable"
    return "write_refused"
