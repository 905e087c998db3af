"""The simulator's shared core: the values every part of the simulator speaks in.

Quotes and bars (what the server sends), the error a history request answers with, the
deterministic hash behind sizes and trades, and the day/time arithmetic of the model.
Every other simulator module may import this one; it imports none of them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, date, datetime

__all__ = [
    "EPOCH",
    "EPOCH_TS",
    "YEAR_SECONDS",
    "Bar",
    "Greeks",
    "HistoryError",
    "Quote",
    "ceil_tick",
    "day_index",
    "floor_tick",
    "mix",
]

EPOCH = date(2020, 1, 1)
EPOCH_TS = datetime(2020, 1, 1, tzinfo=UTC).timestamp()
YEAR_SECONDS = 365.0 * 86_400.0
_MASK = (1 << 64) - 1


def mix(*parts: int) -> int:
    """A deterministic 64-bit hash (splitmix64 over the parts)."""
    h = 0x9E3779B97F4A7C15
    for p in parts:
        h = (h ^ (p & _MASK)) * 0xBF58476D1CE4E5B9 & _MASK
        h = (h ^ (h >> 31)) * 0x94D049BB133111EB & _MASK
        h ^= h >> 29
    return h


def day_index(at: datetime | date) -> int:
    """Days since 2020-01-01 (UTC) of an instant or a date."""
    if isinstance(at, datetime):
        return math.floor((at.timestamp() - EPOCH_TS) / 86_400.0)
    return (at - EPOCH).days


def floor_tick(x: float, tick: float) -> float:
    """``x`` rounded down to a multiple of ``tick`` (cents)."""
    return round(math.floor(x / tick + 1e-9) * tick, 2)


def ceil_tick(x: float, tick: float) -> float:
    """``x`` rounded up to a multiple of ``tick`` (cents)."""
    return round(math.ceil(x / tick - 1e-9) * tick, 2)


@dataclass(frozen=True, slots=True)
class Greeks:
    """A price with IB's greek conventions: vega per vol point, theta per calendar day.

    ``pv_dividend`` is the present value of the cash dividends before expiry.
    """

    price: float
    delta: float
    gamma: float
    vega: float
    theta: float
    iv: float
    pv_dividend: float


@dataclass(frozen=True, slots=True)
class Quote:
    """Everything a market-data subscription shows for one contract at one instant.

    ``bid``/``ask`` are None for an index; ``open_interest`` is None for underlyings. Greeks
    are None for underlyings; a side's greeks are None when that side has no positive price.
    ``dividends`` is IB's tick 456 text for stocks (None for options and indexes).
    ``option_volume`` and ``option_open_interest`` are an underlying's (calls, puts) totals
    over its options (IB's ticks 29/30 and 27/28, generic ticks 100 and 101); None for options.
    """

    con_id: int
    time: datetime
    bid: float | None
    ask: float | None
    bid_size: int
    ask_size: int
    last: float
    last_size: int
    volume: int
    close: float
    open_interest: int | None
    implied_vol: float
    hist_vol: float | None
    und_price: float
    greeks: Greeks | None = None
    bid_greeks: Greeks | None = None
    ask_greeks: Greeks | None = None
    dividends: str | None = None
    option_volume: tuple[int, int] | None = None
    option_open_interest: tuple[int, int] | None = None

    @property
    def mid(self) -> float | None:
        """The midpoint, when both sides exist."""
        if self.bid is None or self.ask is None:
            return None
        return (self.bid + self.ask) / 2.0


@dataclass(frozen=True, slots=True)
class Bar:
    """One history bar as IB sends it (``time`` is the bar's start, UTC)."""

    time: datetime
    open: float
    high: float
    low: float
    close: float
    volume: float
    wap: float
    bar_count: int


class HistoryError(Exception):
    """IB would answer this request with error ``code`` and ``message``."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
