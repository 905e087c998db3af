"""Reading (and small writes of) option and stock ticks."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from alc_data.db.rows import OptionTick, StockTick
from alc_data.db.translate import translating
from alc_data.repositories.base import PartitionedWrites, aware, insert_rows
from alc_data.repositories.copy_target import RowChecker
from alc_data.repositories.corporate_actions import CorporateActionRepository
from alc_data.repositories.writers import StockTickWriter, TickWriter

_OPTION_COLS = ", ".join(OptionTick._fields)
_STOCK_COLS = ", ".join(StockTick._fields)
_STOCK_PRICES = ("price", "bid_price", "ask_price", "vwap")


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

    async def _range(
        self, key: int, start: datetime, end: datetime, limit: int | None
    ) -> Sequence[Any]:
        sql = (
            f"SELECT {self._cols} FROM {self._table} WHERE {self._key} = :key "
            "AND time >= :start AND time < :end ORDER BY time"
            + (" LIMIT :limit" if limit is not None else "")
        )
        params = {"key": key, "start": aware(start, "start"), "end": aware(end, "end")}
        if limit is not None:
            params["limit"] = limit
        with translating():
            return (await self.session.execute(text(sql), params)).all()

    async def _latest(self, key: int, as_of: datetime) -> Any:
        sql = (
            f"SELECT {self._cols} FROM {self._table} WHERE {self._key} = :key "
            "AND time <= :as_of ORDER BY time DESC LIMIT 1"
        )
        with translating():
            result = await self.session.execute(
                text(sql), {"key": key, "as_of": aware(as_of, "as_of")}
            )
            return result.first()

    async def _insert(self, rows: Sequence[tuple[object, ...]]) -> int:
        """Insert rows (ON CONFLICT DO NOTHING); returns how many were new."""
        if not rows:
            return 0
        checked = [self._checker.accept(r)[0] for r in rows]
        times = [r[self._checker.target.time_index] for r in checked]
        await self._partitions.ensure(self._table, times)
        return await insert_rows(self.session, self._table, checked)


class OptionTickRepository(TickRepository):
    """Option quotes (``market_data_ticks``)."""

    async def ticks(
        self, contract_id: int, *, start: datetime, end: datetime, limit: int | None = None
    ) -> list[OptionTick]:
        """The ticks of ``contract_id`` with ``start <= time < end``, oldest first."""
        return [OptionTick(*r) for r in await self._range(contract_id, start, end, limit)]

    async def latest(self, contract_id: int, *, as_of: datetime) -> OptionTick | None:
        """The latest tick at or before ``as_of`` (one index seek)."""
        row = await self._latest(contract_id, as_of)
        return OptionTick(*row) if row is not None else None

    async def add_many(self, rows: Sequence[OptionTick]) -> int:
        """Insert a few ticks in the caller's transaction; returns how many were new.

        Raises:
            InvalidRowError: a row is malformed (NaN price, naive time...).
            UnknownReferenceError: a row names an unknown contract.
        """
        return await self._insert(rows)


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
    ) -> list[StockTick]:
        """The ticks with ``start <= time < end``; ``adjusted`` divides prices stamped before
        each split's ex-date by the cumulative factor (volumes unchanged)."""
        rows = [StockTick(*r) for r in await self._range(underlying_id, start, end, limit)]
        if not adjusted or not rows:
            return rows
        adjuster = await CorporateActionRepository(self.session).adjuster(underlying_id)
        if not adjuster:
            return rows
        return [adjuster.adjust(r, r.time, _STOCK_PRICES) for r in rows]

    async def latest(
        self, underlying_id: int, *, as_of: datetime, adjusted: bool = False
    ) -> StockTick | None:
        """The latest tick at or before ``as_of``."""
        row = await self._latest(underlying_id, as_of)
        if row is None:
            return None
        tick = StockTick(*row)
        if adjusted:
            adjuster = await CorporateActionRepository(self.session).adjuster(underlying_id)
            tick = adjuster.adjust(tick, tick.time, _STOCK_PRICES)
        return tick

    async def add_many(self, rows: Sequence[StockTick]) -> int:
        """Insert a few ticks in the caller's transaction; returns how many were new."""
        return await self._insert(rows)
