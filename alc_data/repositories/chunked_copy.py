"""``ChunkedCopy``: write a batch of checked rows with binary COPY, chunk by chunk, and say
what became of every row.

Rows in; out a :class:`~alc_data.repositories.chunk_recovery.CopyOutcome`: written,
duplicates, rejected with reasons, and the rows left unwritten (with why) when the database
stopped answering. No rows are kept here: the buffered writers
(:class:`~alc_data.repositories.buffered_writer.BufferedWriter`) and the collector's sink
decide what to do with the unwritten ones (queue them again, spool them). What is kept is
knowledge of the database, to save round trips: its backend, the partitions known to exist,
the references (contracts, underlyings) known to exist.

Before the chunks: the partitions of the batch's days are created (a day whose partition the
database refuses to create has its rows rejected by name; the other days go on), and the
references not seen before are looked up (rows naming an unknown one are rejected by name).
Then the chunks (``chunk_rows`` each) are written on up to ``parallel`` connections at once,
so that asyncpg encodes the next chunk while the server works on the previous one; each
chunk recovers from refusals of its data as
:mod:`~alc_data.repositories.chunk_recovery` describes. Every database call must complete
within ``write_timeout`` seconds (acquiring the connection included): a database that hangs
counts as unavailable, and the connection is terminated, never reused.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime
from typing import Any

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
    SchemaError,
    UnknownRowReferenceError,
)
from alc_data.repositories.chunk_recovery import ChunkInterrupted, ChunkRecovery, CopyOutcome, Row
from alc_data.repositories.copy_sql import CopySql
from alc_data.repositories.copy_target import CopyTarget, RowChecker

__all__ = ["ChunkedCopy", "CopyOutcome"]


class ChunkedCopy:
    """Writes batches of checked rows into one target table (see the module doc).

    Args:
        db: the database.
        target: the table and its row type.
        chunk_rows: rows per COPY.
        parallel: connections writing chunks at once.
        write_timeout: seconds every database call may take.
    """

    def __init__(
        self,
        db: Database,
        target: CopyTarget,
        *,
        chunk_rows: int,
        parallel: int = 2,
        write_timeout: float,
        source_id: int | None = None,
    ) -> None:
        self.db = db
        self.target = target
        self.chunk_rows = max(1, chunk_rows)
        self.parallel = max(1, parallel)
        self.write_timeout = write_timeout
        self.checker = RowChecker(target)
        self.sql = CopySql(target, source_id)
        self._guard = PartitionGuard()
        self._backend_known = False
        self._known_refs: set[int] = set()
        self._recovery = ChunkRecovery(
            self.sql, self.checker, self._guard, self._ensure_partitions, self._known_refs
        )

    async def write(self, rows: Sequence[Row], *, idempotent: bool) -> CopyOutcome:
        """Write ``rows`` (checked by the target's :class:`RowChecker`); every row ends up
        in exactly one of the outcome's buckets. Never raises for the data or the
        database: a failure to reach it leaves rows ``unwritten`` with ``error`` set."""
        outcome = CopyOutcome()
        if not rows:
            return outcome
        try:
            todo = await self._prepare(list(rows), outcome)
        except Exception as exc:
            outcome.unwritten = list(rows)
            outcome.error = _stop_reason(exc)
            return outcome
        chunks = [todo[i : i + self.chunk_rows] for i in range(0, len(todo), self.chunk_rows)]
        parts: list[CopyOutcome] = [CopyOutcome(unwritten=chunk) for chunk in chunks]
        slots = asyncio.Semaphore(self.parallel)
        stopped = asyncio.Event()
        tasks: list[asyncio.Task[None]] = []

        async def one(index: int) -> None:
            try:
                parts[index] = await self._write_chunk(chunks[index], idempotent)
                if parts[index].error is not None:
                    stopped.set()
            finally:
                slots.release()

        try:
            for index in range(len(chunks)):
                await slots.acquire()
                if stopped.is_set():  # the rest stays unwritten (as it is in ``parts``)
                    slots.release()
                    break
                tasks.append(asyncio.create_task(one(index)))
            await asyncio.gather(*tasks)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        for part in parts:
            outcome.absorb(part)
        return outcome

    # one chunk ----------------------------------------------------------------------------

    async def _write_chunk(self, rows: list[Row], idempotent: bool) -> CopyOutcome:
        part = CopyOutcome()
        try:
            async with self._connection() as conn:
                try:
                    await self._recovery.write(conn, rows, part, idempotent=idempotent)
                except ChunkInterrupted as stop:  # the rows before them are counted
                    part.unwritten, part.error = stop.rows, _stop_reason(stop.cause)
        except Exception as exc:
            if part.error is not None:  # interrupted, then the connection's release failed
                return part
            # No connection, or the time ran out mid-chunk: which of its rows committed is
            # unknown, so all of them stay unwritten (written again later, a row already
            # stored counts as a duplicate, never twice).
            return CopyOutcome(unwritten=rows, error=_stop_reason(exc))
        return part

    @asynccontextmanager
    async def _connection(self) -> AsyncIterator[Any]:
        """A raw connection whose use must end within ``write_timeout`` (acquiring it
        included); one that did not is terminated, never handed back for reuse."""
        try:
            async with asyncio.timeout(self.write_timeout), self.db.raw() as conn:
                try:
                    yield conn
                except BaseException:
                    task = asyncio.current_task()
                    if task is not None and task.cancelling() and not conn.is_closed():
                        conn.terminate()  # mid-protocol: unusable, and release would hang
                    raise
        except TimeoutError as exc:
            raise DatabaseUnavailableError(
                f"the database did not answer within {self.write_timeout:g} s "
                "(ALC_WRITE_TIMEOUT_SECONDS)"
            ) from exc

    # before the chunks: partitions and references ------------------------------------------

    async def _prepare(self, rows: list[Row], outcome: CopyOutcome) -> list[Row]:
        """Create the batch's partitions and check its references; returns the rows left
        after rejecting those whose day or reference cannot be written."""
        days = {self.checker.day(r) for r in rows}
        ref_at = self.target.ref_index
        unverified = {r[ref_at] for r in rows} - self._known_refs
        table = self.target.table
        if self._backend_known and not unverified and self._guard.knows(table, days):
            return rows
        async with self._connection() as conn:
            if not self._backend_known:
                self._guard.enabled = await self.db.backend() is not Backend.TIMESCALE
                self._backend_known = True
            refused = await self._ensure_partitions(conn, days)
            unknown: set[int] = set()
            if unverified:
                found = {r[0] for r in await conn.fetch(self.sql.known_refs, list(unverified))}
                self._known_refs |= found
                unknown = unverified - found
        if not refused and not unknown:
            return rows
        kept = []
        for row in rows:
            error = refused.get(self.checker.day(row))
            if error is not None:
                reason = f"no partition can be created for its day: {error}"
                outcome.rejected.append(InvalidRowError(reason, row))
            elif row[ref_at] in unknown:
                name = self.target.ref_column
                outcome.rejected.append(
                    UnknownRowReferenceError(f"unknown {name} {row[ref_at]}", row)
                )
            else:
                kept.append(row)
        return kept

    async def _ensure_partitions(self, conn: Any, days: set[int]) -> dict[int, AlcDataError]:
        """Create the partitions of ``days``; returns the days whose partition the database
        refused to create (their rows cannot be written), with why."""

        async def call(table: str, at: datetime) -> bool:
            return bool(await conn.fetchval(self.sql.ensure_partition, table, at))

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


def _stop_reason(exc: BaseException) -> AlcDataError:
    """Why rows were left unwritten, as the error the callers report (schema errors and
    internal errors kept as they are; everything else means the database is unavailable)."""
    error = translate(exc)
    if isinstance(error, DatabaseUnavailableError | SchemaError | InternalError):
        return error
    return DatabaseUnavailableError(f"write failed: {error}")
