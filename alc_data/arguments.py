"""Validated command-line arguments: argparse types with one-line errors (argparse exits 2).

Each ``*_arg`` function takes the text of an option and returns its value, or raises
``argparse.ArgumentTypeError`` with what is accepted; the checks themselves
(:func:`check_window_hours`, :func:`check_date`, ...) raise
:class:`~alc_data.errors.InvalidArgumentError` and serve the Python API as well.
"""

from __future__ import annotations

import argparse
import math
import re
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import NoReturn

from alc_data.bar_sizes import ib_bar_size
from alc_data.errors import InvalidArgumentError

__all__ = [
    "EARLIEST_DATE",
    "MAX_WINDOW_DAYS",
    "OneLineErrorParser",
    "bar_size_arg",
    "check_date",
    "check_date_range",
    "check_window_hours",
    "count_arg",
    "date_arg",
    "days_arg",
    "hours_arg",
    "seconds_arg",
    "symbol_arg",
]

#: Windows and durations are at most ten years.
MAX_WINDOW_DAYS = 3653
#: Dates before this are refused (no option history that old anywhere).
EARLIEST_DATE = date(1990, 1, 1)
#: Dates at most this far ahead of today (listed LEAPS reach about three years).
YEARS_AHEAD = 5
_SYMBOL = re.compile(r"[A-Za-z0-9][A-Za-z0-9.^/-]{0,15}")


class OneLineErrorParser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose usage errors are one line (and exit 2, as argparse's)."""

    def error(self, message: str) -> NoReturn:
        """Print ``prog: error: message (see prog --help)`` and exit 2."""
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _typed(check: Callable[[str], object]) -> Callable[[str], object]:
    def parse(text: str) -> object:
        try:
            return check(text)
        except InvalidArgumentError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    parse.__name__ = check.__name__.removeprefix("_")  # argparse names the type in errors
    return parse


def _number(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise InvalidArgumentError(f"not a number: {text!r}") from None
    if not math.isfinite(value):
        raise InvalidArgumentError(f"must be a finite number, got {text!r}")
    return value


def check_window_hours(hours: float, name: str = "hours") -> float:
    """``hours`` if it is finite, > 0 and at most ten years."""
    if not isinstance(hours, int | float) or isinstance(hours, bool) or not math.isfinite(hours):
        raise InvalidArgumentError(f"{name} must be a finite number of hours, got {hours!r}")
    if not 0 < hours <= MAX_WINDOW_DAYS * 24:
        raise InvalidArgumentError(
            f"{name} must be > 0 and at most {MAX_WINDOW_DAYS * 24} (ten years), got {hours:g}"
        )
    return hours


def check_date(day: date, name: str = "date", *, today: date | None = None) -> date:
    """``day`` if it lies between 1990-01-01 and five years from ``today``."""
    today = today or datetime.now(UTC).date()
    latest = today + timedelta(days=365 * YEARS_AHEAD)
    if not EARLIEST_DATE <= day <= latest:
        raise InvalidArgumentError(
            f"{name} {day} is outside {EARLIEST_DATE}..{latest} (1990 to five years ahead)"
        )
    return day


def check_date_range(start: date, end: date) -> None:
    """Raises unless ``start <= end``."""
    if end < start:
        raise InvalidArgumentError(f"the end {end} is before the start {start}")


def _hours(text: str) -> float:
    return check_window_hours(_number(text), "the window")


def _seconds(text: str) -> float:
    seconds = _number(text)
    if not 0 < seconds <= MAX_WINDOW_DAYS * 86_400:
        raise InvalidArgumentError(f"must be > 0 s and at most ten years, got {text!r}")
    return seconds


def _days(text: str) -> int:
    try:
        days = int(text)
    except ValueError:
        raise InvalidArgumentError(f"not a whole number of days: {text!r}") from None
    if not 0 < days <= MAX_WINDOW_DAYS:
        raise InvalidArgumentError(f"must be 1..{MAX_WINDOW_DAYS} days (ten years), got {days}")
    return days


def _date(text: str) -> date:
    try:
        day = date.fromisoformat(text.strip())
    except ValueError:
        raise InvalidArgumentError(f"not a date (YYYY-MM-DD): {text!r}") from None
    return check_date(day)


def _bar_size(text: str) -> str:
    try:
        return ib_bar_size(text)
    except ValueError as exc:
        raise InvalidArgumentError(str(exc)) from None


def _symbol(text: str) -> str:
    symbol = text.strip()
    if not _SYMBOL.fullmatch(symbol):
        raise InvalidArgumentError(
            f"not a symbol: {text!r} (1-16 letters, digits or . ^ / -, e.g. SPY, BRK.B)"
        )
    return symbol.upper()


def count_arg(minimum: int, meaning: str = "") -> Callable[[str], object]:
    """An argparse type: a whole number >= ``minimum`` (``meaning`` explains the minimum)."""

    def count(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise InvalidArgumentError(f"not a whole number: {text!r}") from None
        if value < minimum:
            raise InvalidArgumentError(f"must be >= {minimum}{meaning}, got {value}")
        return value

    return _typed(count)


hours_arg = _typed(_hours)
seconds_arg = _typed(_seconds)
days_arg = _typed(_days)
date_arg = _typed(_date)
bar_size_arg = _typed(_bar_size)
symbol_arg = _typed(_symbol)
