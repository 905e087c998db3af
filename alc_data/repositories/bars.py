"""History bars as stored, and quote bars of any interval >= 1 minute for the backtest.

``bars(contract_id, interval=..., start=..., end=...)`` answers from the ticks where ticks exist
(aggregated over the requested window directly, the equivalent of TimescaleDB's real-time
aggregation, so backfilled ticks are never missed) and from stored BID_ASK history bars where no
tick exists in a bucket; each :class:`QuoteBar` says which (its ``basis``). Every read is
of one source (provenance: ``source=``, else the rule of
:func:`~alc_data.repositories.source_choice.choose_source`).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from alc_data.bar_sizes import bar_size_seconds, interval_of
from alc_data.db.partitioning import BUCKET_ORIGIN
from alc_data.db.rows import OptionBarRow, QuoteBar, StockBarRow
from alc_data.db.timeseries import OPTION_BAR_COLUMNS, render_first_last
from alc_data.db.translate import translating
from alc_data.errors import DataError
from alc_data.repositories.base import PartitionedWrites, aware, insert_rows
from alc_data.repositories.copy_target import RowChecker
from alc_data.repositories.corporate_actions import CorporateActionRepository
from alc_data.repositories.quote_bars import roll_up_stored
from alc_data.repositories.source_choice import SourceSelection, choose_source
from alc_data.repositories.writers import OptionBarWriter, StockBarWriter

_BAR_PRICES = ("open", "high", "low", "close", "wap")
BASES = ("auto", "ticks", "bars")
#: Deprecated name of :data:`BASES`.
SOURCES = BASES

_TICK_BARS_SQL = f"""
SELECT date_bin(CAST(:step AS interval), time, TIMESTAMPTZ '{BUCKET_ORIGIN}') AS bucket,
{render_first_last(OPTION_BAR_COLUMNS, "time", timescale=False)}
FROM market_data_ticks
WHERE contract_id = :contract_id AND source_id = :source AND time >= :start AND time < :end
GROUP BY 1 ORDER BY 1
"""


def _seconds(bar_size: str) -> int | None:
    try:
        return bar_size_seconds(bar_size)
    except ValueError:
        return None


class _BarTable:
    _table: str
    _key: str
    _row_type: type[OptionBarRow] | type[StockBarRow]
    _checker: RowChecker

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self._partitions = PartitionedWrites(session)

    async def _source_id(
        self,
        tables: Sequence[str],
        key: int,
        start: datetime,
        end: datetime,
        source: SourceSelection,
    ) -> int | None:
        with translating():
            chosen = await choose_source(
                self.session, tables=tables, ids=[key], start=start, end=end, source=source
            )
        return chosen.id if chosen is not None else None

    async def _stored(
        self,
        key: int,
        bar_size: str,
        what_to_show: str,
        start: datetime,
        end: datetime,
        source: SourceSelection = None,
        *,
        source_id: int | None = None,
    ) -> list[Any]:
        start, end = aware(start, "start"), aware(end, "end")
        if source_id is None:
            source_id = await self._source_id([self._table], key, start, end, source)
            if source_id is None:
                return []
        cols = ", ".join(self._row_type._fields)
        sql = (
            f"SELECT {cols} FROM {self._table} WHERE {self._key} = :key AND source_id = :source "
            "AND what_to_show = :what AND bar_size = :size AND time >= :start AND time < :end "
            "ORDER BY time"
        )
        params = {
            "key": key,
            "source": source_id,
            "what": what_to_show,
            "size": bar_size,
            "start": start,
            "end": end,
        }
        with translating():
            return list((await self.session.execute(text(sql), params)).all())

    async def add_many(
        self, rows: Sequence[tuple[object, ...]], *, source_id: int | None = None
    ) -> int:
        """Insert a few bars in the caller's transaction (existing ones are left as they are);
        returns how many were new; ``source_id``: their ``data_sources`` id (default:
        ``unspecified``). Bulk loads go through the bar writers."""
        if not rows:
            return 0
        checked = [self._checker.accept(r)[0] for r in rows]
        await self._partitions.ensure(self._table, [r[3] for r in checked])
        return await insert_rows(self.session, self._table, checked, source_id=source_id)


class OptionBarRepository(_BarTable):
    """``option_bars`` as stored, and quote bars of any interval (ticks or stored bars)."""

    _table = "option_bars"
    _key = "contract_id"
    _row_type = OptionBarRow
    _checker = RowChecker(OptionBarWriter.target)

    async def stored(
        self,
        contract_id: int,
        *,
        bar_size: str,
        what_to_show: str,
        start: datetime,
        end: datetime,
        source: SourceSelection = None,
    ) -> list[OptionBarRow]:
        """Stored history bars of one source starting in ``[start, end)``, oldest first."""
        rows = await self._stored(contract_id, bar_size, what_to_show, start, end, source)
        return [OptionBarRow(*r) for r in rows]

    async def bars(
        self,
        contract_id: int,
        *,
        interval: timedelta | str,
        start: datetime,
        end: datetime,
        basis: str = "auto",
        source: SourceSelection = None,
    ) -> list[QuoteBar]:
        """Quote bars of ``interval`` (>= 1 minute) for buckets starting in ``[start, end)``.

        Args:
            basis: ``"auto"`` (ticks where a bucket has ticks, stored BID_ASK bars elsewhere),
                ``"ticks"`` or ``"bars"`` (only that basis).
            source: the provenance (a ``data_sources`` name or id), else the default rule;
                ticks and bars come from that one source. The old meaning of ``source``
                (``"auto"``, ``"ticks"``, ``"bars"``) is accepted as ``basis`` with a
                ``DeprecationWarning``.

        Buckets are aligned like TimescaleDB's ``time_bucket`` (origin Monday 2000-01-03 UTC).

        Raises:
            AmbiguousSourceError: several sources hold data there and none was chosen.
        """
        if isinstance(source, str) and source in BASES:
            warnings.warn(
                f"bars(source={source!r}) is now bars(basis={source!r}); "
                "source= names the provenance",
                DeprecationWarning,
                stacklevel=2,
            )
            basis, source = source, None
        if basis not in BASES:
            raise DataError(f"basis must be one of {BASES}, got {basis!r}")
        step = interval_of(interval)
        start, end = aware(start, "start"), aware(end, "end")
        tables = {"ticks": ["market_data_ticks"], "bars": ["option_bars"]}.get(
            basis, ["market_data_ticks", "option_bars"]
        )
        source_id = await self._source_id(tables, contract_id, start, end, source)
        if source_id is None:
            return []
        from_ticks: list[QuoteBar] = []
        if basis != "bars":
            from_ticks = await self._tick_bars(contract_id, step, start, end, source_id)
        if basis == "ticks":
            return from_ticks
        stored = await self._stored_bid_ask(contract_id, step, start, end, source_id)
        covered = {bar.time for bar in from_ticks}
        merged = from_ticks + [b for b in roll_up_stored(stored, step) if b.time not in covered]
        return sorted(merged, key=lambda b: b.time)

    async def _tick_bars(
        self, contract_id: int, step: timedelta, start: datetime, end: datetime, source_id: int
    ) -> list[QuoteBar]:
        params = {
            "step": step,
            "contract_id": contract_id,
            "source": source_id,
            "start": start,
            "end": end,
        }
        with translating():
            rows = (await self.session.execute(text(_TICK_BARS_SQL), params)).all()
        return [
            QuoteBar(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[12], basis="ticks")
            for r in rows
        ]

    async def _stored_bid_ask(
        self, contract_id: int, step: timedelta, start: datetime, end: datetime, source_id: int
    ) -> list[tuple[OptionBarRow, timedelta]]:
        """Stored BID_ASK bars of the largest bar size that divides ``step``."""
        sql = (
            "SELECT DISTINCT bar_size FROM option_bars WHERE contract_id = :c "
            "AND source_id = :source AND what_to_show = 'BID_ASK' "
            "AND time >= :start AND time < :end"
        )
        params = {"c": contract_id, "source": source_id, "start": start, "end": end}
        with translating():
            sizes = list((await self.session.execute(text(sql), params)).scalars())
        usable = [
            (seconds, size)
            for size in sizes
            if (seconds := _seconds(size)) and step.total_seconds() % seconds == 0
        ]
        if not usable:
            return []
        seconds, size = max(usable)
        rows = await self._stored(contract_id, size, "BID_ASK", start, end, source_id=source_id)
        return [(OptionBarRow(*row), timedelta(seconds=seconds)) for row in rows]


class StockBarRepository(_BarTable):
    """``stock_bars`` as stored, optionally split-adjusted at read time."""

    _table = "stock_bars"
    _key = "underlying_id"
    _row_type = StockBarRow
    _checker = RowChecker(StockBarWriter.target)

    async def stored(
        self,
        underlying_id: int,
        *,
        bar_size: str,
        what_to_show: str,
        start: datetime,
        end: datetime,
        adjusted: bool = False,
        source: SourceSelection = None,
    ) -> list[StockBarRow]:
        """Stored bars of one source starting in ``[start, end)``; ``adjusted`` divides the
        prices of bars before each split's ex-date by the cumulative factor (volatility
        series unchanged)."""
        rows = await self._stored(underlying_id, bar_size, what_to_show, start, end, source)
        bars = [StockBarRow(*r) for r in rows]
        if not adjusted or not bars or "VOLATILITY" in what_to_show:
            return bars
        adjuster = await CorporateActionRepository(self.session).adjuster(underlying_id)
        return [adjuster.adjust(b, b.time, _BAR_PRICES) for b in bars]
