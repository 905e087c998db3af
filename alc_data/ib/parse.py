"""Pure parsing of ib_async market data into rows: ``Ticker`` -> :class:`OptionTick` /
:class:`StockTick`.

IB marks a missing value in several ways, and every one becomes ``None`` (SQL NULL) here:

- prices: NaN (ib_async's empty price), -1 (IB's "no price"), anything negative or infinite;
  a last price of 0 (no trade). A bid or ask of exactly 0 is kept: it is a real "no bid" quote
  far out of the money (ib_async already turns a 0 price with size 0 into NaN);
- sizes, volume, open interest: NaN, negative values (-1);
- option computations (``modelGreeks``): ``None`` fields, -1 (IV, price) and -2 (delta, gamma,
  vega, theta; ib_async leaves -2 in place for vega and theta), non-finite values, and values
  outside their domain (``|delta| > 1``, negative gamma, vega or IV). A theta of exactly -2.0
  is indistinguishable from IB's sentinel and is read as missing.

Times are UTC-aware; a naive time is rejected (:class:`~alc_data.errors.NaiveDatetimeError`).
The option's greeks, IV and underlying price come from IB's model computation
(``modelGreeks``: tick 13), the IV falling back to generic tick 106 when no model
computation arrived yet; IB sends no rho, so ``rho`` is always None.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

from alc_data.db.rows import OptionTick, StockTick
from alc_data.errors import NaiveDatetimeError

__all__ = ["clean_price", "clean_size", "option_tick", "stock_tick", "tick_type", "utc"]

_BIG = 1e300
_TICK_TYPES = {1: "REALTIME", 2: "FROZEN", 3: "DELAYED", 4: "FROZEN"}


def _finite(value: Any) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    if not math.isfinite(number) or abs(number) > _BIG:
        return None
    return number


def clean_price(value: Any, *, zero_is_missing: bool = False) -> float | None:
    """A price, or None for IB's sentinels (NaN, -1, negative, infinite)."""
    number = _finite(value)
    if number is None or number < 0 or (zero_is_missing and number == 0):
        return None
    return number


def clean_size(value: Any) -> int | None:
    """A size, volume or open interest as an int, or None for NaN and -1."""
    number = _finite(value)
    if number is None or number < 0:
        return None
    return int(number)


def utc(value: datetime | None, default: datetime) -> datetime:
    """``value`` in UTC (``default`` when None).

    Raises:
        NaiveDatetimeError: ``value`` has no time zone.
    """
    if value is None:
        return default
    if value.tzinfo is None:
        raise NaiveDatetimeError(f"naive market-data time {value!r}")
    return value.astimezone(UTC)


def tick_type(market_data_type: Any) -> str:
    """The stored ``tick_type`` of ``reqMarketDataType``'s value (1 live, 2 frozen, 3/4
    delayed / delayed-frozen)."""
    try:
        return _TICK_TYPES.get(int(market_data_type), "REALTIME")
    except (TypeError, ValueError):
        return "REALTIME"


def _greek(value: Any, *, low: float, high: float, sentinel: float | None) -> float | None:
    number = _finite(value)
    if number is None or (sentinel is not None and number == sentinel):
        return None
    return number if low <= number <= high else None


def _greeks(comp: Any) -> tuple[float | None, ...]:
    """(iv, delta, gamma, theta, vega, underlying price) of an ``OptionComputation``."""
    if comp is None:
        return (None,) * 6
    inf = math.inf
    return (
        _greek(comp.impliedVol, low=0.0, high=inf, sentinel=-1.0),
        _greek(comp.delta, low=-1.0, high=1.0, sentinel=-2.0),
        _greek(comp.gamma, low=0.0, high=inf, sentinel=-2.0),
        _greek(comp.theta, low=-inf, high=inf, sentinel=-2.0),
        _greek(comp.vega, low=0.0, high=inf, sentinel=-2.0),
        clean_price(comp.undPrice, zero_is_missing=True),
    )


def _open_interest(ticker: Any, right: str) -> int | None:
    if right == "C":
        value = clean_size(ticker.callOpenInterest)
    elif right == "P":
        value = clean_size(ticker.putOpenInterest)
    else:
        value = None
    return value if value is not None else clean_size(ticker.openInterest)


def option_tick(
    ticker: Any, contract_id: int, at: datetime, *, include_greeks: bool = True
) -> OptionTick:
    """The ``market_data_ticks`` row of an option ``Ticker`` at ``at`` (UTC-aware).

    Args:
        ticker: an ib_async ``Ticker`` of an option (any object with its attributes).
        contract_id: ``option_chains.id`` of the contract.
        at: the row's time.
        include_greeks: False leaves delta/gamma/theta/vega (not IV) NULL.
    """
    right = str(getattr(ticker.contract, "right", "") or "")[:1].upper()
    iv, delta, gamma, theta, vega, und = _greeks(ticker.modelGreeks)
    if iv is None:
        iv = _greek(ticker.impliedVolatility, low=0.0, high=math.inf, sentinel=-1.0)
    if not include_greeks:
        delta = gamma = theta = vega = None
    return OptionTick(
        contract_id,
        at,
        clean_price(ticker.bid),
        clean_price(ticker.ask),
        clean_price(ticker.last, zero_is_missing=True),
        clean_size(ticker.bidSize),
        clean_size(ticker.askSize),
        clean_size(ticker.lastSize),
        clean_size(ticker.volume),
        _open_interest(ticker, right),
        iv,
        delta,
        gamma,
        theta,
        vega,
        None,  # rho: IB sends none
        und,
        tick_type(ticker.marketDataType),
    )


def stock_tick(ticker: Any, underlying_id: int, at: datetime) -> StockTick:
    """The ``stock_data_ticks`` row of an underlying's ``Ticker`` (stock or index) at ``at``."""
    return StockTick(
        underlying_id,
        at,
        clean_price(ticker.last, zero_is_missing=True),
        clean_price(ticker.bid),
        clean_price(ticker.ask),
        clean_size(ticker.bidSize),
        clean_size(ticker.askSize),
        clean_size(ticker.volume),
        clean_price(ticker.vwap, zero_is_missing=True),
        tick_type(ticker.marketDataType),
    )
