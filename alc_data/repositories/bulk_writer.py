"""The bulk writer: many producers ``put`` rows; one drain loop writes them with binary COPY.

Flush triggers (``batch_size`` rows waiting, or ``interval`` elapsed) are separate from the COPY
chunk size: a flush writes everything waiting, ``chunk_rows`` at a time, on up to ``parallel``
connections, so that asyncpg encodes the next chunk while the server works on the previous one.

Memory bound: producers wait in :meth:`BulkWriter.put` while ``max_pending`` rows are queued, so
at most ``max_pending + parallel * chunk_rows`` accepted rows are held at any time.

Nothing accepted is dropped: when a chunk's write fails for lack of a database, the rows of it
not yet written go back to the front of the queue and are retried on the next flush
(``counts.pending`` says how many wait). A database that stops answering instead of refusing
(a network partition) counts as unavailable too: every database call of a flush must complete
within ``write_timeout`` seconds (``ALC_WRITE_TIMEOUT_SECONDS``); the connection is then
dropped, never reused. A failure that is neither the data's nor the database's (a bug, a
driver API change) keeps the rows too, is logged at ERROR once per kind, and the flush raises
:class:`~alc_data.errors.WriteFailedError`. A chunk refused for its data is repaired or split until
the bad rows are isolated (:mod:`~alc_data.repositories.chunk_writer`); those are rejected with
an :class:`~alc_data.errors.InvalidRowError` naming the row, and the rest are written. A day
whose partition the database refuses to create has its rows rejected by name; the other days'
rows are written.

An optional ``before_write`` callback (for example inline validation) sees every accepted row
once, in batches (one call per flush in the usual case), before the rows are written; it cannot
stop the write, and a failure of it is logged and recorded in ``counts.last_error``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime, timedelta
from types import TracebackType
from typing import Any, ClassVar, Self

import asyncpg

from alc_data.config import Backend
from alc_data.db.database import Database
from alc_data.db.partition_guard import PartitionGuard
from alc_data.db.translate import sqlstate, translate
from alc_data.errors import (
    AlcDataError,
    DatabaseUnavailableError,
    DataError,
    InternalError,
    InvalidRowError,
    RowsNotWrittenError,
    SchemaError,
    UnknownRowReferenceError,
    WriteFailedError,
)
from alc_data.repositories.chunk_writer import ChunkInterrupted, ChunkWriter, Row
from alc_data.repositories.copy_sql import CopySql
from alc_data.repositories.copy_target import CopyTarget, RowChecker
from alc_data.repositories.writer_counts import WriterCounts

__all__ = ["BeforeWrite", "BulkWriter", "RejectHook", "WriterCounts"]

RejectHook = Callable[[InvalidRowError], None]
#: Called with a batch of accepted rows before they are written (see the module doc).
BeforeWrite = Callable[[Sequence[Row]], Awaitable[object]]

log = logging.getLogger(__name__)


class BulkWriter:
    """Shared implementation of :class:`TickWriter` and its siblings (see the module doc)."""

    target: ClassVar[CopyTarget]
    default_idempotent: ClassVar[bool] = False

    def __init__(
        self,
        db: Database | asyncpg.Pool | str,
        *,
        idempotent: bool | None = None,
        batch_size: int | None = None,
        interval: timedelta | float | None = None,
        chunk_rows: int | None = None,
        max_pending: int | None = None,
        parallel: int = 2,
        on_reject: RejectHook | None = None,
        keep_rejections: int = 1000,
        before_write: BeforeWrite | None = None,
        write_timeout: float | None = None,
    ) -> None:
        self._owns_db = not isinstance(db, Database)
        self.db = Database.coerce(db)
        collection = self.db.settings.collection
        self.idempotent = self.default_idempotent if idempotent is None else idempotent
        self.batch_size = batch_size or collection.batch_size
        self.chunk_rows = chunk_rows or collection.copy_chunk_rows
        seconds = interval.total_seconds() if isinstance(interval, timedelta) else interval
        self.interval = seconds if seconds is not None else collection.interval_ms / 1000
        self.parallel = max(1, parallel)
        self.max_pending = max_pending or max(self.chunk_rows * self.parallel, self.batch_size)
        self.write_timeout = write_timeout or collection.write_timeout_seconds
        self.on_reject = on_reject
        self.before_write = before_write
        self.rejections: deque[InvalidRowError] = deque(maxlen=keep_rejections)
        self._checker = RowChecker(self.target)
        self._sql = CopySql(self.target)
        self._guard = PartitionGuard()
        self._pending: list[Row] = []
        self._fresh = 0  # the last _fresh rows of _pending have not been seen by before_write
        self._known_refs: set[int] = set()
        self._unverified: set[int] = set()
        self._days: set[int] = set()
        self._last_day = -1
        self._n = dict.fromkeys(
            ("put", "accepted", "rej_put", "rej_write", "written", "dups", "flight", "taken"), 0
        )
        self._chunks = ChunkWriter(
            self._sql, self._checker, self._guard, self._ensure_partitions, self._known_refs,
            self._n, self._reject,
        )  # fmt: skip
        self._flushes = self._failed = 0
        self._last_error: str | None = None
        self._logged_internal: set[str] = set()
        self._wake = asyncio.Event()
        self._room = asyncio.Event()
        self._lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None
        self._backend_known = False
        self._closed = False

    # producers ----------------------------------------------------------------------------

    async def put(self, row: Any) -> bool:
        """Queue one row; returns False when it was rejected (see :attr:`rejections`).

        Waits while ``max_pending`` rows are queued (back-pressure), never drops a row.
        """
        if self._closed:
            raise AlcDataError(f"{type(self).__name__} is closed")
        self._n["put"] += 1
        try:
            checked, day = self._checker.accept(row)
        except InvalidRowError as exc:
            self._n["rej_put"] += 1
            self._reject(exc)
            return False
        self._accept(checked, day)
        if len(self._pending) >= self.batch_size:
            self._wake.set()
            if len(self._pending) >= self.max_pending:
                await self._wait_for_room()
        return True

    async def put_many(self, rows: Iterable[Any]) -> int:
        """Queue many rows; returns how many were accepted."""
        accepted = 0
        for row in rows:
            accepted += await self.put(row)
        return accepted

    def _accept(self, row: Row, day: int) -> None:
        self._pending.append(row)
        self._n["accepted"] += 1
        if self.before_write is not None:
            self._fresh += 1
        if day != self._last_day:
            self._days.add(day)
            self._last_day = day
        ref = row[self.target.ref_index]
        if ref not in self._known_refs:
            self._unverified.add(ref)
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run())

    async def _wait_for_room(self) -> None:
        while len(self._pending) >= self.max_pending and not self._closed:
            self._room.clear()
            await self._room.wait()

    def _reject(self, error: InvalidRowError) -> None:
        self.rejections.append(error)
        if self.on_reject is not None:
            self.on_reject(error)

    # state ------------------------------------------------------------------------------

    @property
    def counts(self) -> WriterCounts:
        """The writer's counters (a snapshot)."""
        n = self._n
        return WriterCounts(
            put=n["put"],
            accepted=n["accepted"],
            rejected_on_put=n["rej_put"],
            rejected_on_write=n["rej_write"],
            written=n["written"],
            duplicates=n["dups"],
            pending=len(self._pending),
            in_flight=n["flight"],
            flushes=self._flushes,
            failed_flushes=self._failed,
            last_error=self._last_error,
            withdrawn=n["taken"],
        )

    async def take_pending(self) -> list[Row]:
        """Remove and return every queued row (none is in flight when this returns).

        For a caller that keeps rows elsewhere while the database is down (the collector's
        spool): the rows leave the writer's responsibility and are counted as ``withdrawn``.
        """
        async with self._lock:
            rows, self._pending, self._fresh = self._pending, [], 0
            self._n["taken"] += len(rows)
            self._room.set()
            return rows

    # flushing ---------------------------------------------------------------------------

    async def _run(self) -> None:
        backoff = self.interval
        while not self._closed:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=backoff)
            self._wake.clear()
            try:
                await self.flush()
                backoff = self.interval
            except RowsNotWrittenError:
                backoff = min(max(backoff * 2, 0.05), 5.0)
            except Exception as exc:  # keep the loop alive; the error is in counts
                self._last_error = repr(exc)
                backoff = min(max(backoff * 2, 0.05), 5.0)

    async def flush(self) -> int:
        """Write everything waiting now; returns the rows written by this call.

        Raises:
            RowsNotWrittenError: the database was unavailable; the unwritten rows stay queued.
        """
        async with self._lock:
            if not self._pending:
                self._room.set()
                return 0
            self._flushes += 1
            before = self._n["written"]
            try:
                await self._drain()
            except RowsNotWrittenError as exc:
                self._failed += 1
                self._last_error = str(exc)
                raise
            finally:
                self._room.set()
            return self._n["written"] - before

    async def _drain(self) -> None:
        failures: list[BaseException] = []
        slots = asyncio.Semaphore(self.parallel)
        tasks: list[asyncio.Task[None]] = []
        try:
            while self._pending and not failures:
                try:
                    await self._prepare()
                except Exception as exc:
                    failures.append(_unavailable(exc))
                    break
                await slots.acquire()
                if not failures and self._pending:
                    await self._screen()
                if failures or not self._pending:
                    slots.release()
                    break
                # Only rows before_write has seen (it has seen at least the first one now).
                take = min(self.chunk_rows, len(self._pending) - self._fresh)
                chunk = self._pending[:take]
                del self._pending[:take]
                self._room.set()
                self._n["flight"] += len(chunk)
                tasks.append(asyncio.create_task(self._write_task(chunk, slots, failures)))
        finally:
            if tasks:
                await asyncio.gather(*tasks)
        if failures:
            kept = len(self._pending)
            if isinstance(failures[0], SchemaError):
                raise failures[0]
            if isinstance(failures[0], InternalError):
                self._log_internal(failures[0])
                raise WriteFailedError(
                    f"{self.target.table}: {failures[0]}; {kept} rows kept", kept
                ) from failures[0]
            raise RowsNotWrittenError(
                f"{self.target.table}: database unavailable ({failures[0]}); "
                f"{kept} rows kept for retry",
                kept,
            ) from failures[0]

    async def _screen(self) -> None:
        """Hand the rows queued since the last call to ``before_write`` (each row once)."""
        if self.before_write is None or not self._fresh:
            self._fresh = 0
            return
        rows = self._pending[-self._fresh :]
        self._fresh = 0
        try:
            await self.before_write(rows)
        except Exception as exc:  # a failing check must not stop the rows being written
            self._last_error = f"before_write failed: {exc!r}"
            log.warning("%s: before_write failed", self.target.table, exc_info=True)

    async def _write_task(
        self, chunk: list[Row], slots: asyncio.Semaphore, failures: list[BaseException]
    ) -> None:
        unwritten = chunk
        try:
            async with self._connection() as conn:
                try:
                    await self._chunks.write(conn, chunk, idempotent=self.idempotent)
                    unwritten = []
                except ChunkInterrupted as stop:
                    unwritten = stop.rows  # the rows before them are written and counted
                    failures.append(_unavailable(stop.cause))
        except Exception as exc:
            failures.append(_unavailable(exc))
        finally:
            if unwritten:  # back to the front: nothing accepted is lost
                self._pending[:0] = unwritten
            self._n["flight"] -= len(chunk)
            slots.release()

    # before writing: partitions and references --------------------------------------------

    @asynccontextmanager
    async def _connection(self) -> AsyncIterator[Any]:
        """A raw connection whose use must finish within ``write_timeout`` (acquiring it
        included); one that did not is terminated, never handed back for reuse."""
        try:
            async with asyncio.timeout(self.write_timeout), self.db.raw() as conn:
                try:
                    yield conn
                except BaseException:
                    if not conn.is_closed() and asyncio.current_task().cancelling():  # type: ignore[union-attr]
                        conn.terminate()  # mid-protocol: unusable, and release would hang
                    raise
        except TimeoutError as exc:
            raise DatabaseUnavailableError(
                f"the database did not answer within {self.write_timeout:g} s "
                "(ALC_WRITE_TIMEOUT_SECONDS)"
            ) from exc

    async def _prepare(self) -> None:
        if self._backend_known and not self._days and not self._unverified:
            return
        async with self._connection() as conn:
            if not self._backend_known:
                self._guard.enabled = await self.db.backend() is not Backend.TIMESCALE
                self._backend_known = True
            days, self._days, self._last_day = self._days, set(), -1
            try:
                refused = await self._ensure_partitions(conn, days)
            except BaseException:
                self._days |= days
                raise
            if refused:
                self._reject_days(refused)
            await self._verify_references(conn)

    async def _ensure_partitions(self, conn: Any, days: set[int]) -> dict[int, AlcDataError]:
        """Create the partitions of ``days``; returns the days whose partition the database
        refused to create (their rows cannot be written), with why."""

        async def call(table: str, at: datetime) -> bool:
            return bool(await conn.fetchval(self._sql.ensure_partition, table, at))

        refused: dict[int, AlcDataError] = {}
        for day in sorted(days):
            at = datetime.combine(date.fromordinal(day), datetime.min.time(), UTC)
            try:
                await self._guard.ensure(call, self.target.table, [at])
            except Exception as exc:
                error = translate(exc)
                if not (isinstance(error, DataError) or sqlstate(exc) == "42P17"):
                    raise
                refused[day] = error
        return refused

    def _reject_days(self, refused: dict[int, AlcDataError]) -> None:
        def reason(row: Row) -> InvalidRowError | None:
            error = refused.get(self._checker.day(row))
            if error is None:
                return None
            return InvalidRowError(f"no partition can be created for its day: {error}", row)

        self._reject_pending(reason)

    def _reject_pending(self, reason: Callable[[Row], InvalidRowError | None]) -> None:
        """Reject (by name) the queued rows for which ``reason`` gives an error."""
        keep: list[Row] = []
        first_fresh = len(self._pending) - self._fresh
        for n, row in enumerate(self._pending):
            error = reason(row)
            if error is None:
                keep.append(row)
                continue
            self._n["rej_write"] += 1
            self._reject(error)
            if n >= first_fresh:
                self._fresh -= 1
        self._pending[:] = keep

    def _log_internal(self, error: AlcDataError) -> None:
        kind = str(error).split(":", 2)[:2]
        key = ":".join(kind)
        if key not in self._logged_internal:
            self._logged_internal.add(key)
            log.error("%s: %s (the rows are kept; this is a bug, please report it)",
                      self.target.table, error, exc_info=error)  # fmt: skip

    async def _verify_references(self, conn: Any) -> None:
        if not self._unverified:
            return
        wanted = list(self._unverified)
        found = {r[0] for r in await conn.fetch(self._sql.known_refs, wanted)}
        self._unverified.difference_update(wanted)
        self._known_refs |= found
        unknown = set(wanted) - found
        if not unknown:
            return
        i, name = self.target.ref_index, self.target.ref_column

        def reason(row: Row) -> InvalidRowError | None:
            if row[i] not in unknown:
                return None
            return UnknownRowReferenceError(f"unknown {name} {row[i]}", row)

        self._reject_pending(reason)

    # lifecycle --------------------------------------------------------------------------

    async def close(self) -> None:
        """Flush everything and stop; safe to call twice.

        Raises:
            RowsNotWrittenError: rows could not be written; they stay queued and a later
                ``close()`` (or ``flush()``) retries them.
        """
        self._closed = True
        self._wake.set()
        self._room.set()
        if self._task is not None:
            # Let the loop finish its current flush (cancelling it could split a chunk).
            task, self._task = self._task, None
            await task
        await self.flush()
        if self._owns_db:
            await self.db.close()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()


def _unavailable(exc: BaseException) -> AlcDataError:
    """A failure to write a chunk, as the error the writer reports (schema errors kept)."""
    error = translate(exc)
    if isinstance(error, DatabaseUnavailableError | SchemaError | InternalError):
        return error
    return DatabaseUnavailableError(f"write failed: {error}")
