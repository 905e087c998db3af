"""The simulated instruments: underlyings, option contracts and their contract ids.

Five underlyings make the default universe: SPY, QQQ and IWM (ETFs with daily expirations),
AAPL (a single stock with weekly expirations) and SPX (an index: European, cash-settled
options; AM-settled monthlies as class ``SPX``, PM-settled dailies as ``SPXW``). Stock and ETF
options are American; the stocks pay quarterly cash dividends (see
:mod:`alc_data.ib.sim.dividends`); the index pays none.

Option contract ids encode the contract (underlying, trading class, expiration, strike, right),
so any id can be decoded without a registry and ids are stable across runs and seeds.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cached_property

from alc_data import exchange_calendar as cal
from alc_data.ib.sim.core import EPOCH

__all__ = [
    "UNDERLYINGS",
    "DividendRule",
    "OptionSpec",
    "StrikeRule",
    "UnderlyingSpec",
    "decode_option_con_id",
    "underlying_by_con_id",
    "underlying_by_symbol",
]

_CON_ID_BASE = 1_000_000_000
_CON_ID_PER_UNDERLYING = 190_000_000
_STRIKE_SLOTS = 4_000


@dataclass(frozen=True)
class StrikeRule:
    """A strike grid: ``fine`` steps within ``fine_band`` of the price, ``coarse`` beyond."""

    fine: float
    coarse: float
    #: (total band, fine band) as fractions of the price, by expiration kind
    bands: tuple[tuple[str, float, float], ...]

    def band(self, kind: str) -> tuple[float, float]:
        """(total, fine) band of an expiration kind (daily, weekly, monthly, quarterly, leaps)."""
        for name, total, fine in self.bands:
            if name == kind:
                return total, fine
        return self.bands[-1][1], self.bands[-1][2]


@dataclass(frozen=True)
class DividendRule:
    """Quarterly cash dividends: ex-dates in ``months``, on the ``weekday``-th weekday rule.

    ``nth`` counts weeks (third Friday = (4, 3)); ``offset`` moves the ex-date by calendar days
    (then to the next trading day). ``yield_`` times the anchor price, / 4, is the amount,
    growing by ``growth`` a year.
    """

    months: tuple[int, ...]
    weekday: int
    nth: int
    offset: int
    yield_: float
    growth: float = 0.05


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
    industry: str
    category: str
    product: str  # "etf" (daily expirations), "stock" (weekly), "index" (SPX/SPXW)
    strikes: StrikeRule
    dividends: DividendRule | None
    late_close: bool  # options trade until 16:15 (index and some ETF options)
    weekly_class: str = ""  # the trading class of PM-settled weeklies (SPXW)

    @property
    def is_index(self) -> bool:
        """True for an index (no bid/ask, no volume, European options)."""
        return self.sec_type == "IND"

    @property
    def strike_unit(self) -> float:
        """Strikes are whole multiples of this (what contract ids count in)."""
        return self.strikes.fine if self.is_index else 0.5

    @property
    def option_close(self) -> time:
        """The close of this underlying's options on a full trading day (New York)."""
        return time(16, 15) if self.late_close else time(16, 0)

    @property
    def classes(self) -> tuple[str, ...]:
        """The option trading classes: the symbol, and the weekly class if any."""
        return (self.symbol, self.weekly_class) if self.weekly_class else (self.symbol,)


_ETF_STRIKES = StrikeRule(
    1.0,
    5.0,
    (
        ("daily", 0.05, 0.03),
        ("weekly", 0.10, 0.04),
        ("monthly", 0.20, 0.05),
        ("quarterly", 0.20, 0.05),
        ("leaps", 0.40, 0.0),
    ),
)
_STOCK_STRIKES = StrikeRule(
    2.5, 5.0, (("weekly", 0.12, 0.05), ("monthly", 0.25, 0.08), ("leaps", 0.45, 0.0))
)
_INDEX_STRIKES = StrikeRule(
    5.0,
    25.0,
    (
        ("daily", 0.04, 0.02),
        ("weekly", 0.06, 0.025),
        ("monthly", 0.15, 0.04),
        ("quarterly", 0.15, 0.04),
        ("leaps", 0.35, 0.0),
    ),
)
_QUARTER_ENDS = (3, 6, 9, 12)
_FUNDS = ("Funds", "Equity Fund")

UNDERLYINGS: tuple[UnderlyingSpec, ...] = (
    UnderlyingSpec(
        0,
        "SPY",
        "STK",
        756733,
        "SMART",
        "ARCA",
        "SPDR S&P 500 ETF TRUST",
        520.0,
        0.04,
        0.16,
        *_FUNDS,
        "etf",
        _ETF_STRIKES,
        DividendRule(_QUARTER_ENDS, 4, 3, 0, 0.013),
        True,
    ),
    UnderlyingSpec(
        1,
        "QQQ",
        "STK",
        320227571,
        "SMART",
        "NASDAQ",
        "INVESCO QQQ TRUST SERIES 1",
        440.0,
        0.05,
        0.20,
        *_FUNDS,
        "etf",
        _ETF_STRIKES,
        DividendRule(_QUARTER_ENDS, 0, 4, 0, 0.006),
        True,
    ),
    UnderlyingSpec(
        2,
        "AAPL",
        "STK",
        265598,
        "SMART",
        "NASDAQ",
        "APPLE INC",
        200.0,
        0.04,
        0.26,
        "Technology",
        "Computers",
        "stock",
        _STOCK_STRIKES,
        DividendRule((2, 5, 8, 11), 4, 2, 0, 0.005),
        False,
    ),
    UnderlyingSpec(
        3,
        "IWM",
        "STK",
        9579970,
        "SMART",
        "ARCA",
        "ISHARES RUSSELL 2000 ETF",
        200.0,
        0.03,
        0.21,
        *_FUNDS,
        "etf",
        _ETF_STRIKES,
        DividendRule(_QUARTER_ENDS, 0, 1, 1, 0.011),
        True,
    ),
    UnderlyingSpec(
        4,
        "SPX",
        "IND",
        416904,
        "CBOE",
        "",
        "S&P 500 Stock Index",
        5200.0,
        0.04,
        0.16,
        "Indices",
        "Broad Range Equity Index",
        "index",
        _INDEX_STRIKES,
        None,
        True,
        "SPXW",
    ),
)
_BY_SYMBOL = {u.symbol: u for u in UNDERLYINGS}
_BY_CON_ID = {u.con_id: u for u in UNDERLYINGS}


def underlying_by_symbol(symbol: str) -> UnderlyingSpec | None:
    """The underlying called ``symbol`` (case-insensitive; ``SPXW`` is SPX), or None."""
    symbol = symbol.upper()
    return _BY_SYMBOL.get("SPX" if symbol == "SPXW" else symbol)


def underlying_by_con_id(con_id: int) -> UnderlyingSpec | None:
    """The underlying with IB contract id ``con_id``, or None."""
    return _BY_CON_ID.get(con_id)


@dataclass(frozen=True)
class OptionSpec:
    """One option contract (listed or not: the model decides whether it exists)."""

    underlying: UnderlyingSpec
    expiry: date
    strike: float
    right: str
    trading_class: str

    @property
    def european(self) -> bool:
        """Index options are European (and cash-settled); stock and ETF options American."""
        return self.underlying.is_index

    @property
    def am_settled(self) -> bool:
        """SPX monthlies settle on the expiration day's opening prices (AM settlement)."""
        return self.underlying.is_index and self.trading_class == self.underlying.symbol

    @property
    def settlement(self) -> str:
        """ "AM" or "PM"."""
        return "AM" if self.am_settled else "PM"

    @cached_property
    def con_id(self) -> int:
        """The contract id (encodes underlying, class, expiration, strike and right)."""
        days = (self.expiry - EPOCH).days
        slot = round(self.strike / self.underlying.strike_unit)
        weekly = 1 if self.trading_class != self.underlying.symbol else 0
        body = ((days * _STRIKE_SLOTS + slot) * 2 + (self.right == "P")) * 2 + weekly
        return _CON_ID_BASE + self.underlying.index * _CON_ID_PER_UNDERLYING + body

    @property
    def local_symbol(self) -> str:
        """The OCC symbol, e.g. ``SPY   261218C00600000``."""
        return (
            f"{self.trading_class:<6}{self.expiry:%y%m%d}{self.right}"
            f"{round(self.strike * 1000):08d}"
        )

    @cached_property
    def expires_at(self) -> datetime:
        """The end of trading (PM) or the settlement at the open (AM), UTC."""
        if self.am_settled:
            at = datetime.combine(self.expiry, cal.REGULAR_OPEN, cal.EXCHANGE_TZ)
            return at.astimezone(UTC)
        hours = cal.option_session(self.expiry, late_close=self.underlying.late_close)
        if hours is not None:
            return hours[1]
        close = datetime.combine(self.expiry, self.underlying.option_close, cal.EXCHANGE_TZ)
        return close.astimezone(UTC)

    @cached_property
    def last_trading_day(self) -> date:
        """The last day it trades (the day before expiry for AM-settled options)."""
        if self.am_settled:
            return cal.previous_trading_day(self.expiry)
        return self.expiry

    @property
    def symbol(self) -> str:
        """The underlying's symbol."""
        return self.underlying.symbol


def decode_option_con_id(con_id: int) -> OptionSpec | None:
    """The option that ``con_id`` encodes (whether or not it is listed), or None."""
    body = con_id - _CON_ID_BASE
    if body < 0:
        return None
    index, rest = divmod(body, _CON_ID_PER_UNDERLYING)
    if index >= len(UNDERLYINGS):
        return None
    rest, weekly = divmod(rest, 2)
    rest, put = divmod(rest, 2)
    days, slot = divmod(rest, _STRIKE_SLOTS)
    spec = UNDERLYINGS[index]
    if weekly and not spec.weekly_class:
        return None
    trading_class = spec.weekly_class if weekly else spec.symbol
    expiry = EPOCH + timedelta(days=days)
    strike = round(slot * spec.strike_unit, 4)
    return OptionSpec(spec, expiry, strike, "P" if put else "C", trading_class)
