"""The simulated instruments: underlyings, option listing rules, strikes and contract ids.

Listing rules (simplified from the US options market): weekly expirations on every Friday
(Thursday when the Friday is an exchange holiday) are listed six weeks ahead; monthly expirations
(the third Friday) a year ahead. The strikes of an expiration are fixed on its listing date: a
band around the underlying's price that day, in the underlying's standard increment. SPX monthlies
trade as class ``SPX`` and its weeklies as ``SPXW``; every other class is the symbol.

Option contract ids encode the contract (underlying, expiration, strike, right), so any id can be
decoded without a registry and ids are stable across runs and seeds.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cached_property

from alc_data import exchange_calendar as cal

__all__ = [
    "UNDERLYINGS",
    "OptionSpec",
    "UnderlyingSpec",
    "decode_option_con_id",
    "expirations_listed",
    "is_expiration",
    "listing_date",
    "strikes_for",
    "underlying_by_con_id",
    "underlying_by_symbol",
]

_CON_ID_BASE = 1_000_000_000
_CON_ID_PER_UNDERLYING = 200_000_000
_EXPIRY_EPOCH = date(2020, 1, 1)
WEEKLY_LEAD_DAYS = 42
MONTHLY_LEAD_DAYS = 365


@dataclass(frozen=True)
class UnderlyingSpec:
    """A stock or index and the parameters of its simulated market."""

    index: int
    symbol: str
    sec_type: str
    con_id: int
    exchange: str
    primary_exchange: str
    long_name: str
    anchor_price: float
    drift: float
    vol: float
    dividend_yield: float
    strike_step: float
    option_close: time
    industry: str
    category: str
    weekly_band: float = 0.12
    monthly_band: float = 0.25

    @property
    def is_index(self) -> bool:
        """True for an index (no bid/ask, no volume)."""
        return self.sec_type == "IND"

    def trading_class(self, expiry: date) -> str:
        """The option trading class of ``expiry`` (SPX monthlies vs SPXW weeklies)."""
        if self.symbol == "SPX" and not is_monthly(expiry):
            return "SPXW"
        return self.symbol


_NY = time(16, 15)
UNDERLYINGS: tuple[UnderlyingSpec, ...] = (
    UnderlyingSpec(0, "SPY", "STK", 756733, "SMART", "ARCA", "SPDR S&P 500 ETF TRUST",
                   520.0, 0.04, 0.16, 0.013, 1.0, _NY, "Funds", "Equity Fund"),
    UnderlyingSpec(1, "QQQ", "STK", 320227571, "SMART", "NASDAQ", "INVESCO QQQ TRUST SERIES 1",
                   440.0, 0.05, 0.20, 0.006, 1.0, _NY, "Funds", "Equity Fund"),
    UnderlyingSpec(2, "AAPL", "STK", 265598, "SMART", "NASDAQ", "APPLE INC",
                   200.0, 0.04, 0.26, 0.005, 2.5, time(16, 0), "Technology", "Computers"),
    UnderlyingSpec(3, "IWM", "STK", 9579970, "SMART", "ARCA", "ISHARES RUSSELL 2000 ETF",
                   200.0, 0.03, 0.21, 0.011, 1.0, _NY, "Funds", "Equity Fund"),
    UnderlyingSpec(4, "SPX", "IND", 416904, "CBOE", "", "S&P 500 Stock Index",
                   5200.0, 0.04, 0.16, 0.013, 5.0, _NY, "Indices", "Broad Range Equity Index",
                   weekly_band=0.08, monthly_band=0.15),
)
_BY_SYMBOL = {u.symbol: u for u in UNDERLYINGS}
_BY_CON_ID = {u.con_id: u for u in UNDERLYINGS}


def underlying_by_symbol(symbol: str) -> UnderlyingSpec | None:
    """The underlying called ``symbol`` (case-insensitive), or None."""
    return _BY_SYMBOL.get(symbol.upper())


def underlying_by_con_id(con_id: int) -> UnderlyingSpec | None:
    """The underlying with IB contract id ``con_id``, or None."""
    return _BY_CON_ID.get(con_id)


def _third_friday(year: int, month: int) -> date:
    first = date(year, month, 1)
    return first + timedelta(days=(4 - first.weekday()) % 7 + 14)


def _friday_to_expiry(friday: date) -> date:
    """Fridays that are holidays (Good Friday) expire on the Thursday before."""
    return friday if cal.is_trading_day(friday) else friday - timedelta(days=1)


def is_monthly(expiry: date) -> bool:
    """True when ``expiry`` is the (holiday-adjusted) third Friday of its month."""
    return _friday_to_expiry(_third_friday(expiry.year, expiry.month)) == expiry


def is_expiration(expiry: date) -> bool:
    """True when options expire on ``expiry`` (a Friday, or its Thursday on a holiday)."""
    friday = expiry + timedelta(days=(4 - expiry.weekday()) % 7)
    return expiry >= _EXPIRY_EPOCH and _friday_to_expiry(friday) == expiry


def listing_date(expiry: date) -> date:
    """The day an expiration is first listed."""
    lead = MONTHLY_LEAD_DAYS if is_monthly(expiry) else WEEKLY_LEAD_DAYS
    return expiry - timedelta(days=lead)


def expirations_listed(on: date) -> list[date]:
    """Every expiration trading on ``on`` (listed, not yet past), in order."""
    first_friday = on + timedelta(days=(4 - on.weekday()) % 7)
    result = []
    friday = first_friday - timedelta(days=7)
    while friday <= on + timedelta(days=MONTHLY_LEAD_DAYS + 7):
        expiry = _friday_to_expiry(friday)
        if listing_date(expiry) <= on <= expiry:
            result.append(expiry)
        friday += timedelta(days=7)
    return result


def strikes_for(spec: UnderlyingSpec, center: float, expiry: date) -> list[float]:
    """The strikes of ``expiry``: a band around ``center`` (the price on the listing date)."""
    band = spec.monthly_band if is_monthly(expiry) else spec.weekly_band
    step = spec.strike_step
    lo = math.ceil(center * (1.0 - band) / step)
    hi = math.floor(center * (1.0 + band) / step)
    return [round(i * step, 4) for i in range(lo, hi + 1)]


@dataclass(frozen=True)
class OptionSpec:
    """One listed option contract."""

    underlying: UnderlyingSpec
    expiry: date
    strike: float
    right: str

    @property
    def trading_class(self) -> str:
        """IB's trading class (``SPXW`` for SPX weeklies)."""
        return self.underlying.trading_class(self.expiry)

    @cached_property
    def con_id(self) -> int:
        """The contract id (encodes underlying, expiration, strike and right)."""
        days = (self.expiry - _EXPIRY_EPOCH).days
        body = (days * 20_000 + round(self.strike * 2)) * 2 + (1 if self.right == "P" else 0)
        return _CON_ID_BASE + self.underlying.index * _CON_ID_PER_UNDERLYING + body

    @property
    def local_symbol(self) -> str:
        """The OCC symbol, e.g. ``SPY   261218C00600000``."""
        return (
            f"{self.trading_class:<6}{self.expiry:%y%m%d}{self.right}"
            f"{round(self.strike * 1000):08d}"
        )

    @property
    def expires_at(self) -> datetime:
        """The end of trading on the expiration date (UTC)."""
        close = datetime.combine(self.expiry, self.underlying.option_close, cal.EXCHANGE_TZ)
        return close.astimezone(UTC)

    @property
    def listed_on(self) -> date:
        """The first day this contract traded."""
        return listing_date(self.expiry)


def decode_option_con_id(
    con_id: int, strikes: Callable[[UnderlyingSpec, date], list[float]]
) -> OptionSpec | None:
    """The option with contract id ``con_id`` if it exists (expired ones included), else None.

    ``strikes`` gives the strikes of an underlying's expiration (they depend on prices).
    """
    body = con_id - _CON_ID_BASE
    if body < 0:
        return None
    index, rest = divmod(body, _CON_ID_PER_UNDERLYING)
    if index >= len(UNDERLYINGS):
        return None
    rest, right_bit = divmod(rest, 2)
    days, strike2 = divmod(rest, 20_000)
    spec = UNDERLYINGS[index]
    expiry = _EXPIRY_EPOCH + timedelta(days=days)
    if not is_expiration(expiry):
        return None
    strike = strike2 / 2
    if strike not in strikes(spec, expiry):
        return None
    return OptionSpec(spec, expiry, strike, "P" if right_bit else "C")
