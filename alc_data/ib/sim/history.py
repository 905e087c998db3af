"""History bars with IB's request semantics: endDateTime, durationStr, bar sizes, useRTH.

- ``end`` "" means now; otherwise "yyyymmdd HH:MM:SS <zone>", "yyyymmdd-HH:MM:SS" (UTC) or
  "yyyymmdd HH:MM:SS" (exchange time, as TWS reads it). Bars after now never exist.
- ``duration`` "N S|D|W|M|Y": S seconds, W weeks, M 30-day months, Y 365-day years; D counts
  trading sessions when the market follows the calendar or RTH is asked, else 24-hour days.
- Bars are labelled by their start, aligned to multiples of the bar size (UTC), cut to the
  regular session when ``use_rth`` (or the calendar) applies; "1 day" bars are sessions (or
  UTC days in an always-open market without RTH). The last bar may be partial (ends at now).
- Options have history from their listing day to their expiry; an expired option has none
  (IB serves no history for expired options: the contract itself no longer resolves).
- Option prices in a bar are valued with the time to expiry at the bar's start, at the
  underlying's open, high, low and close (so OHLC is consistent: low <= open, close <= high).
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from alc_data import exchange_calendar as cal
from alc_data.ib.pacing import bar_size_seconds
from alc_data.ib.sim.instruments import OptionSpec, UnderlyingSpec

if TYPE_CHECKING:
    from alc_data.ib.sim.model import Bar, MarketModel

__all__ = ["HistoryError", "format_bar_time", "parse_end", "request_bars"]

OPTION_WHAT = frozenset({"TRADES", "MIDPOINT", "BID", "ASK", "BID_ASK"})
UNDERLYING_WHAT = frozenset(
    {"TRADES", "MIDPOINT", "BID", "ASK", "BID_ASK", "OPTION_IMPLIED_VOLATILITY",
     "HISTORICAL_VOLATILITY"}
)
MAX_BARS = 100_000


class HistoryError(Exception):
    """IB would answer this request with error ``code`` and ``message``."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


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
        raise HistoryError(
            321, f"Error validating request.-'bB' : cause - Invalid end date/time {text!r}"
        ) from exc


def _duration_start(model: MarketModel, end: datetime, duration: str, sessions: bool) -> datetime:
    try:
        count_text, unit = duration.strip().split()
        count = int(count_text)
        unit = unit.upper()
    except ValueError as exc:
        raise HistoryError(321, f"Error validating request:-'bB' : cause - Invalid duration "
                                f"{duration!r}") from exc
    if count <= 0 or unit not in {"S", "D", "W", "M", "Y"}:
        raise HistoryError(321, f"Error validating request:-'bB' : cause - Invalid duration "
                                f"{duration!r}")
    if unit == "D" and sessions:
        day = end.astimezone(cal.EXCHANGE_TZ).date()
        hours = cal.session(day)
        if hours is None or end <= hours[0]:
            day = cal.previous_trading_day(day)
        for _ in range(count - 1):
            day = cal.previous_trading_day(day)
        opened = cal.session(day)
        assert opened is not None
        return opened[0]
    seconds = {"S": 1, "D": 86_400, "W": 604_800, "M": 2_592_000, "Y": 31_536_000}[unit]
    return end - timedelta(seconds=count * seconds)


def _spans(start: datetime, end: datetime, sessions: bool) -> list[tuple[float, float]]:
    """The trading spans overlapping [start, end): sessions, or one always-open span."""
    if not sessions:
        return [(start.timestamp(), end.timestamp())]
    spans = []
    day = start.astimezone(cal.EXCHANGE_TZ).date()
    while day <= end.astimezone(cal.EXCHANGE_TZ).date():
        hours = cal.session(day)
        if hours is not None and hours[1] > start and hours[0] < end:
            spans.append((hours[0].timestamp(), hours[1].timestamp()))
        day += timedelta(days=1)
    return spans


def _windows(
    start: datetime, end: datetime, size: int, sessions: bool
) -> list[tuple[float, float]]:
    """The [start, end) of every bar in [start, end), cut to sessions when asked."""
    a, b = start.timestamp(), end.timestamp()
    result: list[tuple[float, float]] = []
    for lo, hi in _spans(start, end, sessions):
        if size >= 86_400:
            if sessions:
                result.append((lo, min(hi, b)))
                continue
            day = math.ceil(a / 86_400) * 86_400.0
            while day < b:
                result.append((day, min(day + 86_400.0, b)))
                day += 86_400.0
            continue
        # A session's first bar starts at the open, even when that is off the bar grid.
        t = lo if lo >= a and sessions else math.ceil(max(lo, a) / size) * size
        top = min(hi, b)
        while t < top:
            nxt = (math.floor(t / size) + 1) * size
            result.append((t, min(nxt, top)))
            t = nxt
            if len(result) > MAX_BARS:
                raise HistoryError(162, "Historical Market Data Service error message:"
                                        "Time length exceed max.")
    return result


def request_bars(
    model: MarketModel,
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
    if isinstance(contract, OptionSpec):
        if model.is_expired(contract, now):
            raise HistoryError(200, "No security definition has been found for the request")
        allowed = OPTION_WHAT
    else:
        allowed = UNDERLYING_WHAT
    if what not in allowed:
        raise HistoryError(162, "Historical Market Data Service error message:No historical "
                                f"market data for {name}/{what}")
    try:
        size = bar_size_seconds(bar_size)
    except ValueError as exc:
        raise HistoryError(321, f"Error validating request:-'bB' : cause - Invalid bar size "
                                f"{bar_size!r}") from exc
    if size > 86_400:
        raise HistoryError(321, f"Error validating request:-'bB' : cause - bar size "
                                f"{bar_size!r} is not supported by the simulator")
    end_at = min(parse_end(end, now) if isinstance(end, str) else end.astimezone(UTC), now)
    sessions = use_rth or model.calendar
    start = max(_duration_start(model, end_at, duration, sessions), model.data_start())
    if isinstance(contract, OptionSpec):
        listed = cal.session(contract.listed_on)
        first = listed[0] if listed else datetime.combine(contract.listed_on, datetime.min.time(),
                                                          UTC)
        start = max(start, first)
        end_at = min(end_at, contract.expires_at)
    windows = _windows(start, end_at, size, sessions) if start < end_at else []
    from alc_data.ib.sim.bars import compute_bar

    bars = [b for lo, hi in windows if (b := compute_bar(model, contract, lo, hi, what))]
    if not bars:
        raise HistoryError(162, "Historical Market Data Service error message:HMDS query "
                                f"returned no data: {name}@SMART {what.title()}")
    return bars


def head_timestamp(model: MarketModel, contract: UnderlyingSpec | OptionSpec,
                   use_rth: bool) -> datetime:
    """The earliest bar time IB would report for ``contract``."""
    start = model.data_start()
    if isinstance(contract, OptionSpec):
        listed = cal.session(contract.listed_on)
        if listed:
            start = max(start, listed[0])
    if use_rth or model.calendar:
        day = start.astimezone(cal.EXCHANGE_TZ).date()
        while (hours := cal.session(day)) is None or hours[1] <= start:
            day += timedelta(days=1)
        start = max(start, hours[0])
    return start


def format_bar_time(at: datetime, daily: bool, format_date: int) -> str:
    """A bar's date field as IB formats it (daily: yyyymmdd; 2: epoch seconds)."""
    if daily:
        return at.astimezone(UTC).strftime("%Y%m%d")
    if format_date == 2:
        return str(int(at.timestamp()))
    return at.astimezone(cal.EXCHANGE_TZ).strftime("%Y%m%d %H:%M:%S America/New_York")
