"""History bars with IB's request semantics: endDateTime, durationStr, bar sizes, useRTH.

- ``end`` "" means now; otherwise "yyyymmdd HH:MM:SS <zone>", "yyyymmdd-HH:MM:SS" (UTC) or
  "yyyymmdd HH:MM:SS" (exchange time, as TWS reads it). Bars after now never exist.
- History always follows the exchange calendar: no weekends or holidays, early closes on half
  days. Stocks: the regular session with ``useRTH=1``, 04:00-20:00 New York (17:00 on half
  days) with ``useRTH=0``; the index: its regular session; options: the regular session
  09:30-16:00, whatever ``useRTH`` says. (Index and SPY/QQQ/IWM options quote until 16:15,
  see :meth:`~alc_data.ib.sim.model.QuoteModel.session`; their history still stops at 16:00
  because the loader plans option days on the 16:00 session.)
- ``duration`` "N S|D|W|M|Y": S seconds, W weeks, M 30-day months, Y 365-day years; D counts
  sessions.
- Bars are labelled by their start, aligned to multiples of the bar size (UTC), cut to the
  session (a session's first bar starts at its open); "1 day" bars are sessions. The last bar
  may be partial (ends at now).
- Options have history from their listing day to their expiry; an expired option has none
  (IB serves no history for expired options: the contract itself no longer resolves).
- Option prices in a bar are valued with the time to expiry at the bar's start, at the
  underlying's open, high, low and close (so OHLC is consistent: low <= open, close <= high).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from alc_data import exchange_calendar as cal
from alc_data.bar_sizes import bar_size_seconds
from alc_data.ib.sim.bars import compute_bar
from alc_data.ib.sim.core import Bar, HistoryError
from alc_data.ib.sim.instruments import OptionSpec, UnderlyingSpec
from alc_data.ib.sim.model import QuoteModel

__all__ = ["HistoryError", "format_bar_time", "head_timestamp", "parse_end", "request_bars"]

OPTION_WHAT = frozenset({"TRADES", "MIDPOINT", "BID", "ASK", "BID_ASK"})
UNDERLYING_WHAT = frozenset(
    {
        "TRADES",
        "MIDPOINT",
        "BID",
        "ASK",
        "BID_ASK",
        "OPTION_IMPLIED_VOLATILITY",
        "HISTORICAL_VOLATILITY",
    }
)
MAX_BARS = 100_000
Hours = Callable[[date], tuple[datetime, datetime] | None]


def _invalid(what: str) -> HistoryError:
    return HistoryError(321, f"Error validating request.-'bB' : cause - {what}")


def parse_end(text: str, now: datetime) -> datetime:
    """An IB endDateTime string as an aware UTC datetime (empty = now)."""
    text = text.strip()
    if not text:
        return now
    try:
        if "-" in text and " " not in text:
            return datetime.strptime(text + "+0000", "%Y%m%d-%H:%M:%S%z")
        parts = text.split(" ")
        if len(parts) == 1:
            day = datetime.strptime(parts[0] + "+0000", "%Y%m%d%z")
            return day.replace(hour=23, minute=59, second=59, tzinfo=cal.EXCHANGE_TZ)
        wall = datetime.strptime(parts[0] + parts[1] + "+0000", "%Y%m%d%H:%M:%S%z")
        zone = ZoneInfo(parts[2]) if len(parts) > 2 else cal.EXCHANGE_TZ
        return wall.replace(tzinfo=zone).astimezone(UTC)
    except (ValueError, IndexError, ZoneInfoNotFoundError) as exc:
        raise _invalid(f"Invalid end date/time {text!r}") from exc


def bar_seconds(bar_size: str) -> int:
    """The length of an IB bar size in seconds.

    Raises:
        HistoryError: 321 for anything that is not one of IB's bar sizes (``'0 mins'`` too).
    """
    try:
        size = bar_size_seconds(bar_size)
    except (ValueError, KeyError, TypeError) as exc:
        raise _invalid(f"Invalid bar size {bar_size!r}") from exc
    if size <= 0:
        raise _invalid(f"Invalid bar size {bar_size!r}")
    if size > 86_400:
        raise _invalid(f"bar size {bar_size!r} is not supported by the simulator")
    return size


def _duration_start(end: datetime, duration: str, hours: Hours) -> datetime:
    try:
        count_text, unit = duration.strip().split()
        count = int(count_text)
        unit = unit.upper()
    except ValueError as exc:
        raise _invalid(f"Invalid duration {duration!r}") from exc
    if count <= 0 or unit not in {"S", "D", "W", "M", "Y"}:
        raise _invalid(f"Invalid duration {duration!r}")
    if unit == "D":
        day = end.astimezone(cal.EXCHANGE_TZ).date()
        today = hours(day)
        if today is None or end <= today[0]:
            day = cal.previous_trading_day(day)
        for _ in range(count - 1):
            day = cal.previous_trading_day(day)
        opened = hours(day)
        assert opened is not None
        return opened[0]
    seconds = {"S": 1, "W": 604_800, "M": 2_592_000, "Y": 31_536_000}[unit]
    return end - timedelta(seconds=count * seconds)


def _spans(start: datetime, end: datetime, hours: Hours) -> list[tuple[float, float]]:
    """The sessions overlapping [start, end)."""
    spans = []
    day = start.astimezone(cal.EXCHANGE_TZ).date()
    while day <= end.astimezone(cal.EXCHANGE_TZ).date():
        found = hours(day)
        if found is not None and found[1] > start and found[0] < end:
            spans.append((found[0].timestamp(), found[1].timestamp()))
        day += timedelta(days=1)
    return spans


def _windows(start: datetime, end: datetime, size: int, hours: Hours) -> list[tuple[float, float]]:
    """The [start, end) of every bar in [start, end), cut to sessions."""
    a, b = start.timestamp(), end.timestamp()
    result: list[tuple[float, float]] = []
    for lo, hi in _spans(start, end, hours):
        top = min(hi, b)
        if size >= 86_400:
            result.append((max(lo, a), top))
            continue
        # A session's first bar starts at the open, even when that is off the bar grid.
        t = lo if lo >= a else math.ceil(a / size) * size
        while t < top:
            nxt = (math.floor(t / size) + 1) * size
            result.append((t, min(nxt, top)))
            t = nxt
            if len(result) > MAX_BARS:
                raise HistoryError(
                    162, "Historical Market Data Service error message:Time length exceed max."
                )
    return result


def hours_for(model: QuoteModel, contract: UnderlyingSpec | OptionSpec, use_rth: bool) -> Hours:
    """The trading hours history follows for ``contract`` (see the module docstring)."""
    if isinstance(contract, OptionSpec):
        return cal.session  # the stock market's regular session (see the module docstring)
    return lambda day: model.session(contract, day, extended=not use_rth)


def request_bars(
    model: QuoteModel,
    con_id: int,
    *,
    end: datetime | str,
    duration: str,
    bar_size: str,
    what_to_show: str,
    use_rth: bool,
) -> list[Bar]:
    """The bars IB would return for one reqHistoricalData (see the module docstring).

    Raises:
        HistoryError: with the code IB answers (200 unknown/expired, 162 no data, 321 invalid).
    """
    contract = model.contract(con_id)
    if contract is None:
        raise HistoryError(200, "No security definition has been found for the request")
    now = model.now()
    what = what_to_show.upper()
    name = contract.local_symbol if isinstance(contract, OptionSpec) else contract.symbol
    if isinstance(contract, OptionSpec) and model.is_expired(contract, now):
        raise HistoryError(200, "No security definition has been found for the request")
    allowed = OPTION_WHAT if isinstance(contract, OptionSpec) else UNDERLYING_WHAT
    if what not in allowed:
        raise HistoryError(
            162,
            "Historical Market Data Service error message:No historical market data for "
            f"{name}/{what}",
        )
    size = bar_seconds(bar_size)
    end_at = min(parse_end(end, now) if isinstance(end, str) else end.astimezone(UTC), now)
    hours = hours_for(model, contract, use_rth)
    start = max(_duration_start(end_at, duration, hours), model.data_start())
    if isinstance(contract, OptionSpec):
        start = max(start, _first_instant(model, contract))
        end_at = min(end_at, contract.expires_at)
    windows = _windows(start, end_at, size, hours) if start < end_at else []
    bars = [b for lo, hi in windows if (b := compute_bar(model, contract, lo, hi, what))]
    if not bars:
        raise HistoryError(
            162,
            "Historical Market Data Service error message:HMDS query returned no data: "
            f"{name}@SMART {what.title()}",
        )
    return bars


def _first_instant(model: QuoteModel, option: OptionSpec) -> datetime:
    listed = model.listed_on(option)
    return datetime.combine(listed, datetime.min.time(), cal.EXCHANGE_TZ).astimezone(UTC)


def head_timestamp(
    model: QuoteModel, contract: UnderlyingSpec | OptionSpec, use_rth: bool
) -> datetime:
    """The earliest bar time IB would report for ``contract``."""
    start = model.data_start()
    if isinstance(contract, OptionSpec):
        start = max(start, _first_instant(model, contract))
    hours = hours_for(model, contract, use_rth)
    day = start.astimezone(cal.EXCHANGE_TZ).date()
    while (found := hours(day)) is None or found[1] <= start:
        day += timedelta(days=1)
    return max(start, found[0])


def format_bar_time(at: datetime, daily: bool, format_date: int) -> str:
    """A bar's date field as IB formats it (daily: yyyymmdd; 2: epoch seconds)."""
    if daily:
        return at.astimezone(cal.EXCHANGE_TZ).strftime("%Y%m%d")
    if format_date == 2:
        return str(int(at.timestamp()))
    return at.astimezone(cal.EXCHANGE_TZ).strftime("%Y%m%d %H:%M:%S America/New_York")
