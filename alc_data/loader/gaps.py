"""Deciding what is complete: from the bookkeeping alone, or audited against stored bars.

A normal load trusts ``history_requests``: a unit recorded done, empty or unavailable is
complete. A gap audit (:meth:`HistoricalDataLoader.backfill_gaps`) also counts the bars stored
per trading day: a day recorded done with fewer bars than IB served has lost bars; a day with no
record is complete only if it already holds every bar its session has (early closes counted by
the exchange calendar, holidays never asked for).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from datetime import date, datetime

from sqlalchemy import select

from alc_data import exchange_calendar as cal
from alc_data.db.database import Database
from alc_data.db.models import OptionContract
from alc_data.loader.plan import COMPLETE, Instrument, UnitKey, expected_bars

__all__ = ["complete_units", "expired_options"]

StoredCounts = Mapping[tuple[int, str, str, date], int]


def complete_units(
    units: Iterable[UnitKey],
    statuses: Mapping[UnitKey, tuple[str, int]],
    stored: StoredCounts | None = None,
) -> set[UnitKey]:
    """The units that need no request (``stored`` given: audited against stored bars)."""
    complete = set()
    for unit in units:
        status = statuses.get(unit)
        if stored is None:
            if status is not None and status[0] in COMPLETE:
                complete.add(unit)
            continue
        _, instrument_id, what, bar_size, day = unit
        have = stored.get((instrument_id, what, bar_size, day), 0)
        if status is not None and status[0] in COMPLETE:
            if status[0] != "done" or have >= status[1]:
                complete.add(unit)
        elif have and have >= expected_bars(day, bar_size):
            complete.add(unit)
    return complete


def is_expired(expiry: date, now: datetime) -> bool:
    """True once options expiring on ``expiry`` stopped trading (the day's close has passed)."""
    today = now.astimezone(cal.EXCHANGE_TZ).date()
    if expiry != today:
        return expiry < today
    hours = cal.session(expiry)
    return hours is None or hours[1] <= now


async def expired_options(
    db: Database,
    underlying_id: int,
    live_con_ids: Collection[int],
    start: date,
    now: datetime,
) -> list[Instrument]:
    """Known option contracts of the underlying that traded after ``start`` and have expired."""
    query = select(OptionContract).where(
        OptionContract.underlying_id == underlying_id,
        OptionContract.expiration_date >= start,
        OptionContract.expiration_date <= now.astimezone(cal.EXCHANGE_TZ).date(),
    )
    async with db.session() as session:
        contracts = (await session.execute(query)).scalars().all()
    return [
        Instrument(
            "option",
            c.id,
            c.ib_con_id or 0,
            c.exchange,
            c.contract_symbol or f"#{c.id}",
            expiry=c.expiration_date,
        )
        for c in contracts
        if c.ib_con_id not in live_con_ids and is_expired(c.expiration_date, now)
    ]
