"""The loader's bookkeeping in ``history_requests``: what is complete, and what a day ended as.

A day is recorded only after its bars are written (the bar writers flush first), so a load
killed at any point leaves no day marked complete without its bars; the bars of a day written
but not yet recorded are simply requested again and skipped by the idempotent writers.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select, text
from sqlalchemy.dialects.postgresql import insert

from alc_data import exchange_calendar as cal
from alc_data.db.database import Database
from alc_data.db.models import UNSPECIFIED_SOURCE_ID, HistoryRequest
from alc_data.loader.fetch import DayOutcome
from alc_data.loader.plan import UnitKey

__all__ = ["ProgressStore", "Status"]

#: (status, bars) of a unit as recorded.
Status = tuple[str, int]

_KEY_COLUMNS = ("instrument_kind", "instrument_id", "what_to_show", "bar_size", "trading_day")
_BAR_TABLES = {"option": ("option_bars", "contract_id"), "stock": ("stock_bars", "underlying_id")}


class ProgressStore:
    """Reads and writes ``history_requests`` (and counts stored bars for gap detection).

    Progress and stored bars are per source: ``source_id`` (None: the ``unspecified``
    source, the columns' default) is the source whose progress this store reads and writes.
    """

    def __init__(self, db: Database, source_id: int | None = None) -> None:
        self.db = db
        self.source_id = source_id if source_id is not None else UNSPECIFIED_SOURCE_ID

    async def statuses(
        self, kind: str, ids: Collection[int], start: date, end: date
    ) -> dict[UnitKey, Status]:
        """Recorded units of these instruments with a trading day in ``[start, end]``."""
        if not ids:
            return {}
        h = HistoryRequest
        query = select(
            h.instrument_kind, h.instrument_id, h.what_to_show, h.bar_size, h.trading_day,
            h.status, h.bars,
        ).where(
            h.source_id == self.source_id,
            h.instrument_kind == kind, h.instrument_id.in_(list(ids)),
            h.trading_day >= start, h.trading_day <= end,
        )  # fmt: skip
        async with self.db.session() as session:
            rows = (await session.execute(query)).all()
        return {(r[0], r[1], r[2], r[3], r[4]): (r[5], r[6]) for r in rows}

    async def record(self, outcomes: Sequence[DayOutcome]) -> None:
        """Upsert the outcome of each day (attempts add up across runs)."""
        if not outcomes:
            return
        now = datetime.now(UTC)
        values = [
            dict(zip(_KEY_COLUMNS, o.unit, strict=True))
            | {"source_id": self.source_id,
               "status": o.status, "bars": o.bars, "attempts": o.attempts,
               "last_error": o.last_error, "requested_at": now,
               "completed_at": None if o.status == "failed" else now}
            for o in outcomes
        ]  # fmt: skip
        stmt = insert(HistoryRequest).values(values)
        excluded = stmt.excluded
        stmt = stmt.on_conflict_do_update(
            index_elements=["source_id", *_KEY_COLUMNS],
            set_={
                "status": excluded.status,
                "bars": excluded.bars,
                "attempts": HistoryRequest.attempts + excluded.attempts,
                "last_error": excluded.last_error,
                "requested_at": excluded.requested_at,
                "completed_at": excluded.completed_at,
            },
        )
        async with self.db.session() as session:
            await session.execute(stmt)

    async def stored_counts(
        self, kind: str, ids: Collection[int], start: date, end: date
    ) -> dict[tuple[int, str, str, date], int]:
        """Stored bars per (instrument, whatToShow, bar size, trading day) in the window."""
        if not ids:
            return {}
        table, column = _BAR_TABLES[kind]
        first, last = _window(start, end)
        sql = text(
            f"SELECT {column}, what_to_show, bar_size, "
            "CAST(timezone(:tz, time) AS date) AS day, count(*) "
            f"FROM {table} WHERE {column} = ANY(:ids) AND source_id = :source "
            "AND time >= :first AND time < :last "
            "GROUP BY 1, 2, 3, 4"
        )
        params = {"tz": str(cal.EXCHANGE_TZ), "ids": list(ids), "first": first, "last": last,
                  "source": self.source_id}  # fmt: skip
        async with self.db.session() as session:
            rows = (await session.execute(sql, params)).all()
        return {(r[0], r[1], r[2], r[3]): int(r[4]) for r in rows}


def _window(start: date, end: date) -> tuple[datetime, datetime]:
    """UTC instants around every session of ``[start, end]`` (a day of margin each side)."""
    first = datetime.combine(start - timedelta(days=1), datetime.min.time(), cal.EXCHANGE_TZ)
    last = datetime.combine(end + timedelta(days=2), datetime.min.time(), cal.EXCHANGE_TZ)
    return first, last
