"""The buffered writer: many producers ``put`` rows; a drain loop writes them in batches.

Rows are checked when they are put (:class:`~alc_data.repositories.copy_target.RowChecker`:
a bad row is rejected by name at once, with :class:`~alc_data.errors.InvalidRowError`) and
queued. Flush triggers (``batch_size`` rows waiting, or ``interval`` elapsed) are separate from
the COPY chunk size: a flush hands everything waiting to
:class:`~alc_data.repositories.chunked_copy.ChunkedCopy`, which writes it ``chunk_rows`` at a
time on up to ``parallel`` connections and says what became of every row.

Memory bound: producers wait in :meth:`BufferedWriter.put` while ``max_pending`` rows are
queued, and a flush takes at most ``parallel * chunk_rows`` rows at a time from the queue, so
at most ``max_pending + parallel * chunk_rows`` accepted rows are held at any time.

Nothing accepted is dropped: rows a flush could not write (the database unavailable, or not
answering within ``write_timeout`` seconds, ``ALC_WRITE_TIMEOUT_SECONDS``) go back to the
front of the queue and the flush raises :class:`~alc_data.errors.RowsNotWrittenError`;
``counts.pending`` says how many wait. A failure that is neither the data's nor the
database's (a bug, a driver API change) keeps the rows too, is logged at ERROR once per kind,
and the flush raises :class:`~alc_data.errors.WriteFailedError`. Rows the database refuses
for their data are rejected by name and the rest are written.

An optional ``before_write`` callback (for example inline validation) sees every accepted row
once, in batches (one call per flush in the usual case), before the rows are written; it cannot
stop the write, and a failure of it is logged and recorded in ``counts.last_error``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from types import TracebackType
from typing import Any, ClassVar, Self

import asyncpg

from alc_data.db.database import Database
from alc_data.errors import (
    AlcDataError,
    InternalError,
    InvalidRowError,
    RowsNotWrittenError,
    SchemaError,
    WriteFailedError,
)
from alc_data.repositories.chunk_recovery import CopyOutcome, Row
from alc_data.repositories.chunked_copy import ChunkedCopy
from alc_data.repositories.copy_target import CopyTarget
from alc_data.repositories.writer_counts import WriterCounts

__all__ = ["BeforeWrite", "BufferedWriter", "RejectHook", "WriterCounts"]

RejectHook = Callable[[InvalidRowError], None]
#: Called with a batch of accepted rows before they are written (see the module doc).
BeforeWrite = Callable[[Sequence[Row]], Awaitable[object]]

log = logging.getLogger(__name__)


@dataclass
class _Counters:
    """The running counters behind :attr:`BufferedWriter.counts`."""

    put: int = 0
    accepted: int = 0
    rejected_on_put: int = 0
    rejected_on_write: int = 0
    written: int = 0
    duplicates: int = 0
    in_flight: int = 0
    flushes: int = 0
    failed_flushes: int = 0


class BufferedWriter:
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
        source_id: int | None = None,
    ) -> None:
        self._owns_db = not isinstance(db, Database)
        self.db = Database.coerce(db)
        collection = self.db.settings.collection
        self.idempotent = self.default_idempotent if idempotent is None else idempotent
        self.batch_size = batch_size or collection.batch_size
        seconds = interval.total_seconds() if isinstance(interval, timedelta) else interval
        self.interval = seconds if seconds is not None else collection.interval_ms / 1000
        self.copy = ChunkedCopy(
            self.db,
            self.target,
            chunk_rows=chunk_rows or collection.copy_chunk_rows,
            parallel=parallel,
            write_timeout=write_timeout or collection.write_timeout_seconds,
            source_id=source_id,
        )
        #: The ``data_sources`` id recorded on every row (None: the column's default).
        self.source_id = source_id
        self.max_pending = max_pending or max(
            self.copy.chunk_rows * self.copy.parallel, self.batch_size
        )
        self.on_reject = on_reject
        self.before_write = before_write
        self.rejections: deque[InvalidRowError] = deque(maxlen=keep_rejections)
        self._checker = self.copy.checker
        self._pending: list[Row] = []
        self._fresh = 0  # the last _fresh rows of _pending have not been seen by before_write
        self._n = _Counters()
        self._last_error: str | None = None
        self._logged_internal: set[str] = set()
        self._wake = asyncio.Event()
        self._room = asyncio.Event()
        self._lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None
        self._closed = False

    @property
    def write_timeout(self) -> float:
        """Seconds every database call of a flush may take (``ALC_WRITE_TIMEOUT_SECONDS``)."""
        return self.copy.write_timeout

    @write_timeout.setter
    def write_timeout(self, seconds: float) -> None:
        self.copy.write_timeout = seconds

    # producers ----------------------------------------------------------------------------

    async def put(self, row: Any) -> bool:
        """Queue one row; returns False when it was rejected (see :attr:`rejections`).

        Waits while ``max_pending`` rows are queued (back-pressure), never drops a row.
        """
        if self._closed:
            raise AlcDataError(f"{type(self).__name__} is closed")
        self._n.put += 1
        try:
            checked, _ = self._checker.accept(row)
        except InvalidRowError as exc:
            self._n.rejected_on_put += 1
            self._reject(exc)
            return False
        self._pending.append(checked)
        self._n.accepted += 1
        if self.before_write is not None:
            self._fresh += 1
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run())
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
            put=n.put,
            accepted=n.accepted,
            rejected_on_put=n.rejected_on_put,
            rejected_on_write=n.rejected_on_write,
            written=n.written,
            duplicates=n.duplicates,
            pending=len(self._pending),
            in_flight=n.in_flight,
            flushes=n.flushes,
            failed_flushes=n.failed_flushes,
            last_error=self._last_error,
        )

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
            except Exception as exc:  # keep the loop alive; the error is in counts
                self._last_error = str(exc)
                backoff = min(max(backoff * 2, 0.05), 5.0)

    async def flush(self) -> int:
        """Write everything waiting now; returns the rows written by this call.

        Raises:
            RowsNotWrittenError: the database was unavailable; the unwritten rows stay queued.
            WriteFailedError: an internal failure; the unwritten rows stay queued.
            SchemaError: the database is not migrated; the rows stay queued.
        """
        async with self._lock:
            self._room.set()
            if not self._pending:
                return 0
            self._n.flushes += 1
            written = 0
            while self._pending:  # rounds of at most parallel * chunk_rows rows
                written += await self._write_round()
            return written

    async def _write_round(self) -> int:
        take = self.copy.chunk_rows * self.copy.parallel
        batch = self._pending[:take]
        del self._pending[:take]
        unscreened = max(0, self._fresh - len(self._pending))  # the tail is unscreened
        self._fresh -= unscreened
        self._room.set()
        self._n.in_flight = len(batch)
        outcome: CopyOutcome | None = None
        try:
            await self._screen(batch[len(batch) - unscreened :] if unscreened else [])
            outcome = await self.copy.write(batch, idempotent=self.idempotent)
        finally:
            self._n.in_flight = 0
            if outcome is None:  # cancelled: nothing is known, everything is kept
                self._pending[:0] = batch
        return self._settle(outcome)

    def _settle(self, outcome: CopyOutcome) -> int:
        """Count an outcome; queue its unwritten rows again (front) and raise for them."""
        n = self._n
        n.written += outcome.written
        n.duplicates += outcome.duplicates
        n.rejected_on_write += len(outcome.rejected)
        for rejection in outcome.rejected:
            self._reject(rejection)
        if not outcome.unwritten:
            return outcome.written
        self._pending[:0] = outcome.unwritten  # back to the front: nothing accepted is lost
        n.failed_flushes += 1
        error, kept = outcome.error, len(self._pending)
        self._last_error = str(error)
        if isinstance(error, SchemaError):
            raise error
        if isinstance(error, InternalError):
            self._log_internal(error)
            raise WriteFailedError(
                f"{self.target.table}: {error}; {kept} rows kept", kept
            ) from error
        raise RowsNotWrittenError(
            f"{self.target.table}: database unavailable ({error}); {kept} rows kept for retry",
            kept,
        ) from error

    async def _screen(self, rows: list[Row]) -> None:
        """Hand rows not seen before to ``before_write`` (each row once)."""
        if self.before_write is None or not rows:
            return
        try:
            await self.before_write(rows)
        except Exception as exc:  # a failing check must not stop the rows being written
            self._last_error = f"before_write failed: {exc!r}"
            log.warning("%s: before_write failed", self.target.table, exc_info=True)

    def _log_internal(self, error: AlcDataError) -> None:
        key = ":".join(str(error).split(":", 2)[:2])
        if key not in self._logged_internal:
            self._logged_internal.add(key)
            log.error("%s: %s (the rows are kept; this is a bug, please report it)",
                      self.target.table, error, exc_info=error)  # fmt: skip

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
