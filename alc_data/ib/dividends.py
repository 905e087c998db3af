"""IB's dividends tick (generic tick 456, tick type 59 ``IB_DIVIDENDS``), parsed and checked.

IB sends one text, ``"past 12 months,next 12 months,next date,next amount"`` (for example
``"0.83,0.92,20130219,0.23"``; a field may be empty), for a stock subscribed with generic tick
456; ib_async turns it into ``Ticker.dividends`` (an ``ib_async.Dividends``). Both forms become a
:class:`DividendTick`, whose :meth:`~DividendTick.next_dividend` is what a ``corporate_actions``
row of type ``DIVIDEND`` needs (ex-date and cash amount per share). Pure functions: no I/O.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from alc_data.errors import DataError

__all__ = ["DividendTick", "NextDividend", "dividend_tick_from_ticker", "parse_dividend_tick"]

_EARLIEST = date(1990, 1, 1)
_LATEST_YEARS_AHEAD = 5


@dataclass(frozen=True, slots=True)
class NextDividend:
    """The next cash dividend IB announces: ex-date and amount per share."""

    ex_date: date
    amount: float


@dataclass(frozen=True, slots=True)
class DividendTick:
    """One dividends tick; None where IB left a field empty."""

    past_12_months: float | None
    next_12_months: float | None
    next_date: date | None
    next_amount: float | None

    def next_dividend(self) -> NextDividend | None:
        """The next dividend when IB gave both its date and its amount, else None."""
        if self.next_date is None or self.next_amount is None:
            return None
        return NextDividend(self.next_date, self.next_amount)


def _amount(text: str, field: str, raw: str) -> float | None:
    text = text.strip()
    if not text:
        return None
    try:
        value = float(text)
    except ValueError as exc:
        raise DataError(f"dividends tick {raw!r}: {field} {text!r} is not a number") from exc
    return _checked_amount(value, field, raw)


def _checked_amount(value: float, field: str, raw: object) -> float:
    if not math.isfinite(value) or value < 0.0:
        raise DataError(f"dividends tick {raw!r}: {field} must be a finite amount >= 0")
    return value


def _date(text: str, raw: str) -> date | None:
    text = text.strip()
    if not text:
        return None
    try:
        day = datetime.strptime(text + "+0000", "%Y%m%d%z").date()
    except ValueError as exc:
        raise DataError(f"dividends tick {raw!r}: next date {text!r} is not yyyymmdd") from exc
    return _checked_date(day, raw)


def _checked_date(day: date, raw: object) -> date:
    latest = date(datetime.now(UTC).year + _LATEST_YEARS_AHEAD, 12, 31)
    if not _EARLIEST <= day <= latest:
        raise DataError(f"dividends tick {raw!r}: next date {day} is not plausible")
    return day


def parse_dividend_tick(text: str) -> DividendTick:
    """Parse IB's tick-456 text.

    Raises:
        DataError: not four comma-separated fields, a field that is not a number (or a
            yyyymmdd date), a negative or non-finite amount, or an implausible date.
    """
    parts = text.split(",")
    if len(parts) != 4:
        raise DataError(f"dividends tick {text!r}: expected 4 comma-separated fields")
    past, future, next_date, next_amount = parts
    return DividendTick(
        _amount(past, "past 12 months", text),
        _amount(future, "next 12 months", text),
        _date(next_date, text),
        _amount(next_amount, "next amount", text),
    )


def dividend_tick_from_ticker(dividends: Any) -> DividendTick | None:
    """A :class:`DividendTick` from ib_async's ``Ticker.dividends`` (None when it is None).

    Raises:
        DataError: a negative or non-finite amount, or an implausible date.
    """
    if dividends is None:
        return None

    def amount(value: Any, field: str) -> float | None:
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return None
        return _checked_amount(float(value), field, dividends)

    day = dividends.nextDate
    if isinstance(day, datetime):
        day = day.date()
    return DividendTick(
        amount(dividends.past12Months, "past 12 months"),
        amount(dividends.next12Months, "next 12 months"),
        _checked_date(day, dividends) if day is not None else None,
        amount(dividends.nextAmount, "next amount"),
    )
