"""IB bar-size settings ("30 secs", "1 min", "1 day") and their lengths; used by every layer."""

from __future__ import annotations

from datetime import timedelta

from alc_data.errors import DataError

_UNIT_SECONDS = {
    "sec": 1,
    "secs": 1,
    "min": 60,
    "mins": 60,
    "hour": 3600,
    "hours": 3600,
    "day": 86_400,
    "days": 86_400,
    "week": 604_800,
    "weeks": 604_800,
    "month": 2_592_000,
    "months": 2_592_000,
}


#: Every bar size setting IB accepts for historical data ("Historical Data Limitations").
IB_BAR_SIZES = (
    "1 secs", "5 secs", "10 secs", "15 secs", "30 secs",
    "1 min", "2 mins", "3 mins", "5 mins", "10 mins", "15 mins", "20 mins", "30 mins",
    "1 hour", "2 hours", "3 hours", "4 hours", "8 hours",
    "1 day", "1 week", "1 month",
)  # fmt: skip


def ib_bar_size(text: str) -> str:
    """``text`` as IB's spelling of a bar size ("1 MIN", " 30 secs " -> "1 min", "30 secs").

    Raises:
        ValueError: not one of :data:`IB_BAR_SIZES`.
    """
    wanted = " ".join(text.lower().split())
    for size in IB_BAR_SIZES:
        count, unit = size.split()
        if wanted in (size, f"{count} {unit.rstrip('s')}", f"{count} {unit.rstrip('s')}s"):
            return size
    raise ValueError(f"unknown bar size {text!r}; IB's are: {', '.join(IB_BAR_SIZES)}")


def bar_size_seconds(bar_size: str) -> int:
    """The length of an IB bar size setting ("1 min", "30 secs", "1 day") in seconds.

    Raises:
        ValueError: for a bar size IB does not know.
    """
    try:
        count, unit = bar_size.strip().split()
        return int(count) * _UNIT_SECONDS[unit.lower()]
    except (ValueError, KeyError) as exc:
        raise ValueError(f"unknown bar size {bar_size!r}") from exc


def interval_of(interval: timedelta | str) -> timedelta:
    """A quote-bar interval: a timedelta or an IB bar size ("5 mins", "1 hour", "1 day"), a whole
    number of minutes, at least 1 minute.

    Raises:
        DataError: anything else.
    """
    if isinstance(interval, str):
        try:
            interval = timedelta(seconds=bar_size_seconds(interval))
        except ValueError as exc:
            raise DataError(f"unsupported interval {interval!r}") from exc
    if not isinstance(interval, timedelta):
        raise DataError(f"unsupported interval {interval!r}")
    seconds_f = interval.total_seconds()
    if seconds_f < 60 or seconds_f % 60:
        raise DataError(f"interval must be a whole number of minutes >= 1, got {interval}")
    return interval
