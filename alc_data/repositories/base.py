"""The generic repository and the helpers every repository shares.

A repository wraps an ``AsyncSession`` the caller owns: it flushes, never commits. Driver
errors leave it as :mod:`alc_data.errors` types (translated by SQLSTATE).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

from sqlalchemy import ColumnElement, func, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from alc_data.db.base import Base
from alc_data.db.partition_guard import PartitionGuard
from alc_data.db.translate import translating
from alc_data.errors import NaiveDatetimeError

ModelT = TypeVar("ModelT", bound=Base)


def aware(value: datetime, name: str = "time") -> datetime:
    """``value`` in UTC; raises NaiveDatetimeError for a naive datetime."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise NaiveDatetimeError(f"{name}={value.isoformat()} is naive (attach a time zone)")
    return value.astimezone(UTC)


class Repository(Generic[ModelT]):
    """Typed access to one model's table through a session the caller owns.

    Subclasses set ``model_type`` and add intention-revealing, keyword-only methods.
    """

    model_type: type[ModelT]

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, key: Any) -> ModelT | None:
        """The row with primary key ``key``, or None."""
        with translating():
            return await self.session.get(self.model_type, key)

    async def add(self, item: ModelT) -> ModelT:
        """Add ``item`` and flush (server defaults and the id are loaded)."""
        with translating():
            self.session.add(item)
            await self.session.flush()
            await self.session.refresh(item)
        return item

    async def add_many(self, items: Sequence[ModelT]) -> list[ModelT]:
        """Add several items in one flush."""
        with translating():
            self.session.add_all(items)
            await self.session.flush()
        return list(items)

    async def delete(self, item: ModelT) -> None:
        """Delete ``item`` and flush."""
        with translating():
            await self.session.delete(item)
            await self.session.flush()

    async def list(
        self,
        *where: ColumnElement[bool],
        order_by: Sequence[Any] = (),
        limit: int | None = None,
    ) -> list[ModelT]:
        """Rows matching every condition in ``where``."""
        stmt = select(self.model_type).where(*where).order_by(*order_by).limit(limit)
        with translating():
            return list((await self.session.scalars(stmt)).all())

    async def count(self, *where: ColumnElement[bool]) -> int:
        """How many rows match every condition in ``where``."""
        stmt = select(func.count()).select_from(self.model_type).where(*where)
        with translating():
            return int(await self.session.scalar(stmt) or 0)


class PartitionedWrites:
    """Creates partitions through a session before small ORM/Core writes (not the hot path)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self._guard: PartitionGuard | None = None

    async def ensure(self, table: str, times: Sequence[datetime]) -> None:
        """Create the partitions of ``table`` for ``times`` (nothing on TimescaleDB)."""
        if self._guard is None:
            backend = await self.session.scalar(
                text("SELECT value FROM alc_meta WHERE key = 'backend'")
            )
            self._guard = PartitionGuard(enabled=backend != "timescale")

        async def call(tbl: str, at: datetime) -> bool:
            sql = text("SELECT alc_ensure_partition(CAST(:t AS text), CAST(:at AS timestamptz))")
            return bool(await self.session.scalar(sql, {"t": tbl, "at": at}))

        with translating():
            await self._guard.ensure(call, table, [aware(t) for t in times])


async def insert_rows(
    session: AsyncSession, table: str, rows: Sequence[Any], *, source_id: int | None = None
) -> int:
    """``INSERT ... ON CONFLICT DO NOTHING`` of NamedTuple rows; returns how many were new.
    ``source_id``: the rows' ``data_sources`` id (None: the column's default)."""
    target = Base.metadata.tables[table]
    extra = {} if source_id is None else {"source_id": source_id}
    values = [row._asdict() | extra for row in rows]
    stmt = insert(target).values(values).on_conflict_do_nothing()
    with translating():
        result = await session.execute(stmt)
    return int(result.rowcount)  # type: ignore[attr-defined]
