"""Session hours per product, on top of the NYSE calendar (:mod:`alc_data.exchange_calendar`).

Equity options trade 09:30-16:00 New York time (13:00 on early-close days); options on
indexes and on a few broad ETFs (SPY, QQQ, IWM, DIA) trade 15 minutes longer. Lookups are
cached per trading day so that a per-tick check costs a dictionary access and two comparisons.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from alc_data import exchange_calendar

__all__ = [
    "LATE_CLOSE_SYMBOLS",
    "SessionClock",
    "closes_late",
    "day_key",
    "effective_end",
    "in_session",
    "plausible",
    "session_bounds",
    "sessions_between",
]

#: Option classes that trade to 16:15 New York time (13:15 on early-close days).
LATE_CLOSE_SYMBOLS = frozenset(
    {
        "SPY", "QQQ", "IWM", "DIA",
        "SPX", "SPXW", "XSP", "NDX", "NDXP", "XND", "RUT", "RUTW", "MRUT", "VIX", "VIXW",
        "DJX", "OEX", "XEO",
    }
)  # fmt: skip
LATE_CLOSE_EXTRA = timedelta(minutes=15)
#: The trading day of an instant is the UTC date of ``instant - DAY_SHIFT``: every instant from
#: 08:00 UTC (03:00/04:00 New York) to the next 08:00 UTC belongs to one session day.
DAY_SHIFT = timedelta(hours=8)

#: Timestamps outside this range are implausible (and would overflow the date arithmetic).
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(2200, 1, 1, tzinfo=UTC)

_late_cache: dict[tuple[str | None, str | None], bool] = {}
_session_cache: dict[tuple[date, bool], tuple[datetime, datetime] | None] = {}


def closes_late(symbol: str | None, sec_type: str | None = None) -> bool:
    """True when options on ``symbol`` trade to 16:15 (index options and SPY, QQQ, IWM, DIA)."""
    key = (symbol, sec_type)
    cached = _late_cache.get(key)
    if cached is None:
        cached = sec_type == "IND" or (symbol or "").upper() in LATE_CLOSE_SYMBOLS
        _late_cache[key] = cached
    return cached


def plausible(at: object) -> bool:
    """True for an aware datetime between :data:`EARLIEST` and :data:`LATEST`."""
    return isinstance(at, datetime) and at.tzinfo is not None and EARLIEST <= at <= LATEST


def day_key(at: datetime) -> date:
    """The session day an aware instant belongs to (see :data:`DAY_SHIFT`)."""
    if at.tzinfo is not UTC:
        at = at.astimezone(UTC)
    return (at - DAY_SHIFT).date()


def session_bounds(day: date, late: bool) -> tuple[datetime, datetime] | None:
    """The UTC ``(open, close)`` of a product's session on ``day``, or None if closed."""
    key = (day, late)
    try:
        return _session_cache[key]
    except KeyError:
        pass
    hours = exchange_calendar.session(day)
    if hours is not None and late:
        hours = (hours[0], hours[1] + LATE_CLOSE_EXTRA)
    _session_cache[key] = hours
    return hours


def in_session(at: datetime, late: bool) -> bool:
    """True when the aware instant ``at`` is within the product's session (close included)."""
    hours = session_bounds(day_key(at), late)
    return hours is not None and hours[0] <= at <= hours[1]


def sessions_between(start: datetime, end: datetime, late: bool) -> list[tuple[datetime, datetime]]:
    """The product's sessions that overlap ``[start, end]``, in order."""
    found = []
    day = day_key(start) - timedelta(days=1)
    last = day_key(end) + timedelta(days=1)
    while day <= last:
        hours = session_bounds(day, late)
        if hours is not None and hours[1] >= start and hours[0] <= end:
            found.append(hours)
        day += timedelta(days=1)
    return found


def effective_end(as_of: datetime, late: bool, window_start: datetime | None) -> datetime | None:
    """The latest in-session instant at or before ``as_of`` (and after ``window_start``).

    Staleness is judged there: during a session it is ``as_of`` itself; after the close it is
    the close. None when no session of the product falls in the window.
    """
    if not plausible(as_of) or (window_start is not None and not plausible(window_start)):
        return None
    if in_session(as_of, late):
        return as_of
    lower = window_start if window_start is not None else as_of - timedelta(days=7)
    past = [hours for hours in sessions_between(lower, as_of, late) if hours[1] <= as_of]
    if not past:
        return None
    close = past[-1][1]
    return close if window_start is None or close > window_start else None


class SessionClock:
    """Per-tick session lookups with a one-entry cache per product class.

    Ticks arrive in time order, so consecutive lookups almost always hit the session found
    last time; a hit costs two comparisons.
    """

    __slots__ = ("_day", "_last")

    def __init__(self) -> None:
        self._last: dict[bool, tuple[datetime, datetime] | None] = {}
        self._day: tuple[datetime, datetime, date] | None = None

    def bounds(self, at: datetime, late: bool) -> tuple[datetime, datetime] | None:
        """The product's session of ``at``'s day (None on a closed day)."""
        last = self._last.get(late)
        if last is not None and last[0] <= at <= last[1]:
            return last
        hours = session_bounds(self.day(at), late)
        self._last[late] = hours
        return hours

    def day(self, at: datetime) -> date:
        """:func:`day_key` of ``at``, cached for the day last seen."""
        cached = self._day
        if cached is not None and cached[0] <= at < cached[1]:
            return cached[2]
        day = day_key(at)
        lo = datetime.combine(day, datetime.min.time(), UTC) + DAY_SHIFT
        self._day = (lo, lo + timedelta(days=1), day)
        return day
