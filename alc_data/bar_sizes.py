"""IB bar-size settings ("30 secs", "1 min", "1 day") and their lengths; used by every layer."""

from __future__ import annotations

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
