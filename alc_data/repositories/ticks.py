"""Reading (and small writes of) option and stock ticks."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from alc_data.db.rows import OptionTick, StockTick
from alc_data.db.translate import translating
from alc_data.repositories.base import PartitionedWrites, aware, insert_rows
from alc_data.repositories.copy_target import RowChecker
from alc_data.repositories.corporate_actions import CorporateActionRepository
from alc_data.repositories.source_choice import SourceSelection, choose_source
from alc_data.repositories.writers import StockTickWriter, TickWriter

_OPTION_COLS = ", ".join(OptionTick._fields)
_STOCK_COLS = ", ".join(StockTick._fields)
_STOCK_PRICES = ("price", "bid_price", "ask_price", "vwap")
_TICK = timedelta(microseconds=1)


class TickRepository:
    """``market_data_ticks`` through a session: time-range reads and small inserts.

    Bulk and live writes go through :class:`~alc_data.TickWriter` instead.
    """

    _table = "market_data_ticks"
    _key = "contract_id"
    _cols = _OPTION_COLS
    _checker = RowChecker(TickWriter.target)

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self._partitions = PartitionedWrites(session)

    async def _source_id(
        self, key: int, start: datetime | None, end: datetime | None, source: SourceSelection
    ) -> int | None:
        chosen = await choose_source(
            self.session, tables=[self._table], ids=[key], start=start, end=end, source=source
        )
        return chosen.id if chosen is not None else None

    async def _range(
        self,
        key: int,
        start: datetime,
        end: datetime,
        limit: int | None,
        source: SourceSelection = None,
    ) -> Sequence[Any]:
        start, end = aware(start, "start"), aware(end, "end")
        sql = (
            f"SELECT {self._cols} FROM {self._table} WHERE {self._key} = :key "
            "AND source_id = :source AND time >= :start AND time < :end ORDER BY time"
            + (" LIMIT :limit" if limit is not None else "")
        )
        with translating():
            source_id = await self._source_id(key, start, end, source)
            if source_id is None:
                return []
            params = {"key": key, "source": source_id, "start": start, "end": end}
            if limit is not None:
                params["limit"] = limit
            return (await self.session.execute(text(sql), params)).all()

    async def _latest(self, key: int, as_of: datetime, source: SourceSelection = None) -> Any:
        as_of = aware(as_of, "as_of")
        sql = (
            f"SELECT {self._cols} FROM {self._table} WHERE {self._key} = :key "
            "AND source_id = :source AND time <= :as_of ORDER BY time DESC LIMIT 1"
        )
        with translating():
            source_id = await self._source_id(key, None, as_of + _TICK, source)
            if source_id is None:
                return None
            result = await self.session.execute(
                text(sql), {"key": key, "source": source_id, "as_of": as_of}
            )
            return result.first()

    async def _insert(
        self, rows: Sequence[tuple[object, ...]], source_id: int | None = None
    ) -> int:
        """Insert rows (ON CONFLICT DO NOTHING); returns how many were new."""
        if not rows:
            return 0
        checked = [self._checker.accept(r)[0] for r in rows]
        times = [r[self._checker.target.time_index] for r in checked]
        await self._partitions.ensure(self._table, times)
        return await insert_rows(self.session, self._table, checked, source_id=source_id)


class OptionTickRepository(TickRepository):
    """Option quotes (``market_data_ticks``)."""

    async def ticks(
        self,
        contract_id: int,
        *,
        start: datetime,
        end: datetime,
        limit: int | None = None,
        source: SourceSelection = None,
    ) -> list[OptionTick]:
        """The ticks of ``contract_id`` with ``start <= time < end``, oldest first, of one
        source (``source``, else the default rule of
        :func:`~alc_data.repositories.source_choice.choose_source`).

        Raises:
            AmbiguousSourceError: several sources hold ticks there and none was chosen.
        """
        rows = await self._range(contract_id, start, end, limit, source)
        return [OptionTick(*r) for r in rows]

    async def latest(
        self, contract_id: int, *, as_of: datetime, source: SourceSelection = None
    ) -> OptionTick | None:
        """The latest tick at or before ``as_of`` of one source (as :meth:`ticks`)."""
        row = await self._latest(contract_id, as_of, source)
        return OptionTick(*row) if row is not None else None

    async def add_many(self, rows: Sequence[OptionTick], *, source_id: int | None = None) -> int:
        """Insert a few ticks in the caller's transaction; returns how many were new.
        ``source_id``: their ``data_sources`` id (default: ``unspecified``).

        Raises:
            InvalidRowError: a row is malformed (NaN price, naive time...).
            UnknownReferenceError: a row names an unknown contract.
        """
        return await self._insert(rows, source_id)


class StockTickRepository(TickRepository):
    """Underlying quotes (``stock_data_ticks``), optionally split-adjusted at read time."""

    _table = "stock_data_ticks"
    _key = "underlying_id"
    _cols = _STOCK_COLS
    _checker = RowChecker(StockTickWriter.target)

    async def ticks(
        self,
        underlying_id: int,
        *,
        start: datetime,
        end: datetime,
        adjusted: bool = False,
        limit: int | None = None,
        source: SourceSelection = None,
    ) -> list[StockTick]:
        """The ticks with ``start <= time < end`` of one source (as
        :meth:`OptionTickRepository.ticks`); ``adjusted`` divides prices stamped before
        each split's ex-date by the cumulative factor (volumes unchanged)."""
        rows = [StockTick(*r) for r in await self._range(underlying_id, start, end, limit, source)]
        if not adjusted or not rows:
            return rows
        adjuster = await CorporateActionRepository(self.session).adjuster(underlying_id)
        if not adjuster:
            return rows
        return [adjuster.adjust(r, r.time, _STOCK_PRICES) for r in rows]

    async def latest(
        self,
        underlying_id: int,
        *,
        as_of: datetime,
        adjusted: bool = False,
        source: SourceSelection = None,
    ) -> StockTick | None:
        """The latest tick at or before ``as_of`` of one source."""
        row = await self._latest(underlying_id, as_of, source)
        if row is None:
            return None
        tick = StockTick(*row)
        if adjusted:
            adjuster = await CorporateActionRepository(self.session).adjuster(underlying_id)
            tick = adjuster.adjust(tick, tick.time, _STOCK_PRICES)
        return tick

    async def add_many(self, rows: Sequence[StockTick], *, source_id: int | None = None) -> int:
        """Insert a few ticks in the caller's transaction; returns how many were new."""
        return await self._insert(rows, source_id)
