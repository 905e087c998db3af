"""What a historical load fetches, and how hard it may push IB.

Bars are always requested for regular trading hours (``useRTH``): the sessions of the exchange
calendar, which is also how progress is kept (one entry per trading day).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import NoReturn

from alc_data.bar_sizes import ib_bar_size
from alc_data.errors import InvalidArgumentError
from alc_data.ib.pacing import PacingRules

__all__ = ["OPTION_SERIES", "LoaderConfig"]

#: What IB serves for an option (DESIGN.md section 5).
OPTION_SERIES = frozenset({"BID_ASK", "MIDPOINT", "TRADES", "BID", "ASK"})
VOLATILITY_SERIES = ("OPTION_IMPLIED_VOLATILITY", "HISTORICAL_VOLATILITY")


@dataclass(frozen=True)
class LoaderConfig:
    """Settings of :class:`~alc_data.loader.HistoricalDataLoader`.

    Attributes:
        bar_size: bar size of the intraday series (options and the underlying's TRADES).
        option_what_to_show: option series to load (BID_ASK by default; also MIDPOINT,
            TRADES, BID, ASK). Stored as what they are: never converted into quotes.
        stock_what_to_show: intraday series of the underlying.
        volatility_what_to_show: the underlying's 30-day volatility series.
        volatility_bar_size: their bar size (one value per session by default).
        expiry_range_days: option expiry band; None = the collector's setting.
        strike_range_percent: option strike band; None = the collector's setting.
        max_contracts: at most this many options, nearest the money first (None = all).
        sessions_per_request: trading days fetched by one intraday request.
        sessions_per_daily_request: trading days fetched by one request of daily bars.
        pacing: IB's pacing rules (the simulator's, with its time scale, in tests).
        pacing_ledger: admit hard-rule requests through the database's pacing ledger, so
            that loaders in other processes using the same gateway are counted too.
        concurrency: requests in flight at once (IB allows 50 open; fewer is kinder).
        request_timeout: seconds before an unanswered request counts as timed out.
        max_attempts: tries per request on pacing violations and timeouts.
        backoff: first retry delay in IB seconds (scaled by ``pacing.time_scale``), doubled
            on each further attempt.
    """

    bar_size: str = "1 min"
    option_what_to_show: tuple[str, ...] = ("BID_ASK",)
    stock_what_to_show: tuple[str, ...] = ("TRADES",)
    volatility_what_to_show: tuple[str, ...] = VOLATILITY_SERIES
    volatility_bar_size: str = "1 day"
    expiry_range_days: int | None = None
    strike_range_percent: float | None = None
    max_contracts: int | None = None
    sessions_per_request: int = 5
    sessions_per_daily_request: int = 250
    pacing: PacingRules = field(default_factory=PacingRules)
    pacing_ledger: bool = True
    concurrency: int = 8
    request_timeout: float = 60.0
    max_attempts: int = 5
    backoff: float = 15.0

    def __post_init__(self) -> None:
        """Raises :class:`~alc_data.errors.InvalidArgumentError` (a ``ValueError``) naming the
        first bad setting."""
        unknown = set(self.option_what_to_show) - OPTION_SERIES
        if unknown:
            _bad(f"options have no {sorted(unknown)} history; use {sorted(OPTION_SERIES)}")
        for name in ("bar_size", "volatility_bar_size"):
            try:
                ib_bar_size(getattr(self, name))
            except (ValueError, AttributeError, TypeError) as exc:
                _bad(f"{name}: {exc}")
        if self.sessions_per_request < 1 or self.sessions_per_daily_request < 1:
            _bad("sessions per request must be >= 1")
        if not 1 <= self.concurrency <= self.pacing.max_open:
            _bad(f"concurrency must be within 1..{self.pacing.max_open}")
        if self.max_attempts < 1:
            _bad("max_attempts must be >= 1")
        if self.max_contracts is not None and (
            type(self.max_contracts) is not int or self.max_contracts < 1
        ):
            _bad(f"max_contracts must be a whole number >= 1 (None = all), got "
                 f"{self.max_contracts!r}")  # fmt: skip
        if self.expiry_range_days is not None and not 0 <= self.expiry_range_days <= 3653:
            _bad(f"expiry_range_days must be 0..3653, got {self.expiry_range_days!r}")
        band = self.strike_range_percent
        if band is not None and not (isinstance(band, int | float) and 0 < band <= 10):
            _bad(f"strike_range_percent must be a fraction in (0, 10], got {band!r}")
        for name in ("request_timeout", "backoff"):
            value = getattr(self, name)
            if not isinstance(value, int | float) or not 0 <= value < math.inf:
                _bad(f"{name} must be a finite number of seconds >= 0, got {value!r}")
        if self.request_timeout == 0:
            _bad("request_timeout must be > 0")


def _bad(message: str) -> NoReturn:
    raise InvalidArgumentError(f"LoaderConfig: {message}")
