"""Writing one chunk of rows on one connection, isolating the rows the database refuses.

Used by :class:`~alc_data.repositories.chunked_copy.ChunkedCopy` for each chunk of a batch.

A chunk is COPYed (idempotent mode: COPYed into a staging table and merged with
``INSERT ... ON CONFLICT DO NOTHING``). When the database refuses it *for its data*, the chunk is
repaired where that is possible, and otherwise split until the refused rows are isolated:

- ``23505`` on the plain path (rows already stored, a replay): written again through the
  idempotent path, which keeps the new rows and counts the others as duplicates;
- ``23503`` (a reference that has gone since the writer verified it): the chunk's references
  are looked up again; rows whose reference no longer exists are rejected by name and the
  writer forgets the reference, so that later rows for it are refused before any COPY;
- ``23514`` without a constraint (no partition for a row, e.g. maintenance dropped one the
  partition guard remembered): the guard forgets, the partitions are created, and the chunk is
  written again, once;
- ``40001``/``40P01``: retried, up to 5 times;
- any other refusal of the data (``22xxx``/``23xxx``, or a value the driver cannot encode): the
  chunk is split in halves; a single refused row is rejected with an
  :class:`~alc_data.errors.InvalidRowError` naming it.

These apply on every path, including the duplicate fallback. Anything else (the connection lost,
the schema missing, a transient error that outlived its retries) stops the chunk with
:class:`ChunkInterrupted`, which carries exactly the rows not yet written or rejected: the
writer re-queues those, so nothing is written or counted twice.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import asyncpg

from alc_data.db.partition_guard import PartitionGuard
from alc_data.db.translate import RETRYABLE_CODES, sqlstate, translate
from alc_data.errors import (
    AlcDataError,
    DataError,
    DuplicateError,
    InvalidRowError,
    PartitionMissingError,
    UnknownReferenceError,
    UnknownRowReferenceError,
)
from alc_data.repositories.copy_sql import CopySql
from alc_data.repositories.copy_target import RowChecker

Row = tuple[Any, ...]
#: Creates the partitions of the given UTC day numbers on a connection (the days whose
#: partition the database refused are returned; their rows are then refused one by one).
EnsurePartitions = Callable[[Any, set[int]], Awaitable[object]]

__all__ = ["ChunkInterrupted", "ChunkRecovery", "CopyOutcome"]

_MAX_RETRIES = 5


@dataclass
class CopyOutcome:
    """What became of the rows given to a COPY: each is written, a duplicate (already
    stored: the idempotent path), rejected (with the reason, naming the row) or unwritten
    (the database stopped answering, or an internal failure: ``error`` says which; the caller
    keeps those rows)."""

    written: int = 0
    duplicates: int = 0
    rejected: list[InvalidRowError] = field(default_factory=list)
    unwritten: list[Row] = field(default_factory=list)
    error: AlcDataError | None = None

    def absorb(self, other: CopyOutcome) -> None:
        """Add ``other`` (a later part of the same batch) to this outcome."""
        self.written += other.written
        self.duplicates += other.duplicates
        self.rejected.extend(other.rejected)
        self.unwritten.extend(other.unwritten)
        if self.error is None:
            self.error = other.error


class ChunkInterrupted(Exception):
    """A chunk stopped for a reason that is not its data; ``rows`` were not written."""

    def __init__(self, rows: list[Row], cause: AlcDataError) -> None:
        super().__init__(str(cause))
        self.rows = rows
        self.cause = cause


class ChunkRecovery:
    """Writes chunks on a connection and recovers from refusals (see the module doc).

    Args:
        sql: the target's statements.
        checker: the target's row checker (for the row's day and its reference).
        guard: the partition guard of the caller.
        ensure_partitions: creates the partitions of a set of days on a connection.
        known_refs: the references verified so far (refs found gone are removed from it).
    """

    def __init__(
        self,
        sql: CopySql,
        checker: RowChecker,
        guard: PartitionGuard,
        ensure_partitions: EnsurePartitions,
        known_refs: set[int],
    ) -> None:
        self.sql = sql
        self.checker = checker
        self.guard = guard
        self.ensure_partitions = ensure_partitions
        self.known_refs = known_refs
        self._ref = checker.target.ref_index
        self._ref_name = checker.target.ref_column

    async def write(
        self,
        conn: Any,
        rows: list[Row],
        outcome: CopyOutcome,
        *,
        idempotent: bool,
        retries: int = 0,
        repaired: bool = False,
    ) -> None:
        """Write ``rows``: each ends up written, a duplicate or rejected (in ``outcome``).

        Raises:
            ChunkInterrupted: with the rows not yet written, when the failure is not about the
                data (the rows before them in the chunk are written and counted).
        """
        try:
            inserted = await self.sql.write(conn, rows, idempotent=idempotent)
        except Exception as exc:
            error = translate(exc)
            transient = sqlstate(exc) in RETRYABLE_CODES
            if not (transient or isinstance(error, DataError)) or not _usable(conn):
                raise ChunkInterrupted(rows, error) from exc
            if transient:
                if retries >= _MAX_RETRIES:
                    raise ChunkInterrupted(rows, error) from exc
                retries += 1
            await self._recover(conn, rows, outcome, error, idempotent, retries, repaired)
            return
        outcome.written += inserted
        outcome.duplicates += len(rows) - inserted

    async def _recover(
        self,
        conn: Any,
        rows: list[Row],
        outcome: CopyOutcome,
        error: AlcDataError,
        idempotent: bool,
        retries: int,
        repaired: bool,
    ) -> None:
        async def again(
            part: list[Row], *, idem: bool = idempotent, fixed: bool = repaired
        ) -> None:
            await self.write(conn, part, outcome, idempotent=idem, retries=retries, repaired=fixed)

        if not isinstance(error, DataError):  # a transient conflict: the same rows again
            await again(rows)
        elif isinstance(error, DuplicateError) and not idempotent:
            await again(rows, idem=True)  # a replay: keep the new rows, count the others
        elif isinstance(error, PartitionMissingError) and not repaired:
            await self._repair_partitions(conn, rows)
            await again(rows, fixed=True)
        elif isinstance(error, UnknownReferenceError) and len(rows) > 1:
            kept = await self._drop_unknown(conn, rows, outcome)
            if len(kept) < len(rows):
                if kept:
                    await again(kept)
            else:
                await self._split(rows, again)
        elif len(rows) == 1:
            self._refuse(rows[0], error, outcome)
        else:
            await self._split(rows, again)

    async def _split(self, rows: list[Row], again: Callable[[list[Row]], Awaitable[None]]) -> None:
        half = len(rows) // 2
        try:
            await again(rows[:half])
        except ChunkInterrupted as stop:
            stop.rows = [*stop.rows, *rows[half:]]
            raise
        await again(rows[half:])

    async def _repair_partitions(self, conn: Any, rows: list[Row]) -> None:
        self.guard.forget()  # maintenance dropped a partition the guard remembered
        try:
            await self.ensure_partitions(conn, {self.checker.day(r) for r in rows})
        except Exception as exc:
            error = translate(exc)
            if not isinstance(error, DataError) or not _usable(conn):
                raise ChunkInterrupted(rows, error) from exc
            # A period that cannot get a partition: the rows of it are refused one by one.

    async def _drop_unknown(self, conn: Any, rows: list[Row], outcome: CopyOutcome) -> list[Row]:
        """Rejects the rows whose reference no longer exists; returns the others."""
        i = self._ref
        refs = {row[i] for row in rows}
        try:
            found = {r[0] for r in await conn.fetch(self.sql.known_refs, list(refs))}
        except Exception as exc:
            raise ChunkInterrupted(rows, translate(exc)) from exc
        gone = refs - found
        if not gone:
            return rows
        self.known_refs.difference_update(gone)
        kept = []
        for row in rows:
            if row[i] in gone:
                outcome.rejected.append(
                    UnknownRowReferenceError(f"unknown {self._ref_name} {row[i]}", row)
                )
            else:
                kept.append(row)
        return kept

    def _refuse(self, row: Row, error: AlcDataError, outcome: CopyOutcome) -> None:
        if isinstance(error, UnknownReferenceError):
            self.known_refs.discard(row[self._ref])
            rejection: InvalidRowError = UnknownRowReferenceError(
                f"refused by the database: {error}", row
            )
        else:
            rejection = InvalidRowError(f"refused by the database: {error}", row)
        outcome.rejected.append(rejection)


def _usable(conn: Any) -> bool:
    """False when the connection is gone (closed, or already handed back to its pool)."""
    try:
        return not conn.is_closed()
    except asyncpg.InterfaceError:
        return False
