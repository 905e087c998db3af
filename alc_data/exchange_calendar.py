"""The NYSE trading calendar: regular sessions, holidays and early closes, without dependencies.

Regular sessions run 09:30-16:00 America/New_York. Holidays follow NYSE rules: New Year's Day,
Martin Luther King Jr. Day, Washington's Birthday, Good Friday, Memorial Day, Juneteenth (since
2022), Independence Day, Labor Day, Thanksgiving and Christmas. A holiday on a Saturday is observed
the Friday before, on a Sunday the Monday after; New Year's Day on a Saturday is not observed
(NYSE does not close on the last trading day of the year). Early closes (13:00) fall on July 3,
the day after Thanksgiving and Christmas Eve, when those are trading days. Unscheduled closures
(national days of mourning) are listed explicitly.

Besides the regular session: extended hours for stocks (04:00-20:00, 04:00-17:00 on early-close
days, as IB serves with ``useRTH=0``) and option sessions, which close at 16:00 for equity
options and 16:15 for index options and some ETF options (SPY, QQQ, IWM), 13:00 and 13:15 on
early-close days.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

__all__ = [
    "EARLY_CLOSE",
    "EXCHANGE_TZ",
    "EXTENDED_CLOSE",
    "EXTENDED_OPEN",
    "REGULAR_CLOSE",
    "REGULAR_OPEN",
    "early_closes",
    "extended_session",
    "holidays",
    "is_early_close",
    "is_holiday",
    "is_open",
    "is_trading_day",
    "next_trading_day",
    "option_session",
    "previous_trading_day",
    "session",
    "trading_days",
]

EXCHANGE_TZ = ZoneInfo("America/New_York")
REGULAR_OPEN = time(9, 30)
REGULAR_CLOSE = time(16, 0)
EARLY_CLOSE = time(13, 0)
EXTENDED_OPEN = time(4, 0)
EXTENDED_CLOSE = time(20, 0)
EARLY_EXTENDED_CLOSE = time(17, 0)
#: Index and some ETF options trade this long after the stock market's close.
LATE_CLOSE_MINUTES = 15

# Unscheduled full-day closures (national days of mourning).
_SPECIAL_CLOSURES = frozenset({date(2018, 12, 5), date(2025, 1, 9)})


def _easter(year: int) -> date:
    """Gregorian Easter Sunday (anonymous Gregorian algorithm)."""
    a = year % 19
    b, c = divmod(year, 100)
    d, e = divmod(b, 4)
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    ell = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * ell) // 451
    month, day = divmod(h + ell - 7 * m + 114, 31)
    return date(year, month, day + 1)


def _nth_weekday(year: int, month: int, weekday: int, n: int) -> date:
    """The n-th given weekday (0 = Monday) of a month; n = -1 means the last one."""
    if n > 0:
        first = date(year, month, 1)
        return first + timedelta(days=(weekday - first.weekday()) % 7 + 7 * (n - 1))
    last = date(year + month // 12, month % 12 + 1, 1) - timedelta(days=1)
    return last - timedelta(days=(last.weekday() - weekday) % 7)


def _observed(d: date) -> date:
    """Saturday holidays move to Friday, Sunday holidays to Monday."""
    if d.weekday() == 5:
        return d - timedelta(days=1)
    if d.weekday() == 6:
        return d + timedelta(days=1)
    return d


@lru_cache(maxsize=64)
def holidays(year: int) -> frozenset[date]:
    """Every full-day NYSE closure (other than weekends) in ``year``."""
    days = {
        _nth_weekday(year, 1, 0, 3),  # Martin Luther King Jr. Day
        _nth_weekday(year, 2, 0, 3),  # Washington's Birthday
        _easter(year) - timedelta(days=2),  # Good Friday
        _nth_weekday(year, 5, 0, -1),  # Memorial Day
        _observed(date(year, 7, 4)),
        _nth_weekday(year, 9, 0, 1),  # Labor Day
        _nth_weekday(year, 11, 3, 4),  # Thanksgiving
        _observed(date(year, 12, 25)),
    }
    new_year = date(year, 1, 1)
    if new_year.weekday() != 5:  # a Saturday New Year's Day is not observed
        days.add(_observed(new_year))
    if year >= 2022:
        days.add(_observed(date(year, 6, 19)))
    days.update(d for d in _SPECIAL_CLOSURES if d.year == year)
    return frozenset(days)


def is_holiday(d: date) -> bool:
    """True when the exchange is closed on a weekday for a holiday or special closure."""
    return d in holidays(d.year)


def is_trading_day(d: date) -> bool:
    """True when ``d`` (an exchange-local date) has a regular session."""
    return d.weekday() < 5 and not is_holiday(d)


@lru_cache(maxsize=64)
def early_closes(year: int) -> frozenset[date]:
    """The trading days of ``year`` that close at 13:00 New York time."""
    candidates = (
        date(year, 7, 3),
        _nth_weekday(year, 11, 3, 4) + timedelta(days=1),
        date(year, 12, 24),
    )
    return frozenset(d for d in candidates if is_trading_day(d))


def is_early_close(d: date) -> bool:
    """True when ``d`` is a trading day that closes at 13:00 New York time."""
    return d in early_closes(d.year)


@lru_cache(maxsize=8192)
def session(d: date) -> tuple[datetime, datetime] | None:
    """The regular session of ``d`` as UTC-aware ``(open, close)``, or None if closed."""
    if not is_trading_day(d):
        return None
    close = EARLY_CLOSE if is_early_close(d) else REGULAR_CLOSE
    opened = datetime.combine(d, REGULAR_OPEN, EXCHANGE_TZ).astimezone(UTC)
    closed = datetime.combine(d, close, EXCHANGE_TZ).astimezone(UTC)
    return opened, closed


@lru_cache(maxsize=8192)
def extended_session(d: date) -> tuple[datetime, datetime] | None:
    """Stock trading hours with extended hours (04:00-20:00, 17:00 on early-close days)."""
    if not is_trading_day(d):
        return None
    close = EARLY_EXTENDED_CLOSE if is_early_close(d) else EXTENDED_CLOSE
    opened = datetime.combine(d, EXTENDED_OPEN, EXCHANGE_TZ).astimezone(UTC)
    return opened, datetime.combine(d, close, EXCHANGE_TZ).astimezone(UTC)


@lru_cache(maxsize=8192)
def option_session(d: date, *, late_close: bool) -> tuple[datetime, datetime] | None:
    """An option session: the regular session, 15 minutes longer when ``late_close``."""
    hours = session(d)
    if hours is None or not late_close:
        return hours
    return hours[0], hours[1] + timedelta(minutes=LATE_CLOSE_MINUTES)


def trading_days(start: date, end: date) -> list[date]:
    """Trading days from ``start`` to ``end``, both inclusive, in order."""
    return list(_iter_trading_days(start, end))


def _iter_trading_days(start: date, end: date) -> Iterator[date]:
    d = start
    while d <= end:
        if is_trading_day(d):
            yield d
        d += timedelta(days=1)


def next_trading_day(d: date) -> date:
    """The first trading day strictly after ``d``."""
    d += timedelta(days=1)
    while not is_trading_day(d):
        d += timedelta(days=1)
    return d


def previous_trading_day(d: date) -> date:
    """The last trading day strictly before ``d``."""
    d -= timedelta(days=1)
    while not is_trading_day(d):
        d -= timedelta(days=1)
    return d


def is_open(at: datetime) -> bool:
    """True when the regular session is in progress at the aware instant ``at``."""
    if at.tzinfo is None:
        raise ValueError("is_open needs a timezone-aware datetime")
    hours = session(at.astimezone(EXCHANGE_TZ).date())
    return hours is not None and hours[0] <= at < hours[1]
