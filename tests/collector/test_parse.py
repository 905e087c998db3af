"""Ticker -> row parsing: IB's sentinels become NULL (table-driven and with hypothesis)."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from ib_async import OptionComputation, Ticker

from alc_data.errors import NaiveDatetimeError
from alc_data.ib.parse import clean_price, clean_size, option_tick, stock_tick, tick_type, utc

AT = datetime(2030, 1, 2, 15, tzinfo=UTC)
NAN = math.nan


def _ticker(**fields: Any) -> Ticker:
    ticker = Ticker(contract=SimpleNamespace(right=fields.pop("right", "C"), conId=1))  # type: ignore[arg-type]
    for name, value in fields.items():
        setattr(ticker, name, value)
    return ticker


@pytest.mark.parametrize(
    ("value", "expected"),
    [(NAN, None), (-1.0, None), (-0.5, None), (math.inf, None), (None, None), (0.0, 0.0),
     (1.25, 1.25), ("x", None), (1e308 * 10, None)],
)  # fmt: skip
def test_prices(value: Any, expected: float | None) -> None:
    assert clean_price(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"), [(NAN, None), (-1, None), (0.0, 0), (12.0, 12), (None, None)]
)
def test_sizes(value: Any, expected: int | None) -> None:
    assert clean_size(value) == expected


def test_a_full_option_ticker() -> None:
    greeks = OptionComputation(0, 0.25, 0.5, 1.2, 0.0, 0.03, 0.11, -0.05, 101.5)
    ticker = _ticker(bid=1.1, ask=1.2, last=1.15, bidSize=3.0, askSize=4.0, lastSize=1.0,
                     volume=100.0, callOpenInterest=5000.0, modelGreeks=greeks)  # fmt: skip
    row = option_tick(ticker, 7, AT)
    assert row == (7, AT, 1.1, 1.2, 1.15, 3, 4, 1, 100, 5000, 0.25, 0.5, 0.03, -0.05, 0.11,
                   None, 101.5, "REALTIME")  # fmt: skip


def test_ib_sentinels_become_null() -> None:
    # what ib_async leaves for "not computed": None for some fields, -2 for vega and theta
    greeks = OptionComputation(0, None, None, None, None, None, -2.0, -2.0, None)
    ticker = _ticker(bid=NAN, ask=-1.0, last=0.0, bidSize=NAN, askSize=-1.0, volume=NAN,
                     putOpenInterest=NAN, right="P", modelGreeks=greeks,
                     impliedVolatility=NAN, marketDataType=3)  # fmt: skip
    row = option_tick(ticker, 7, AT)
    assert row[2:-1] == (None,) * 15 and row.tick_type == "DELAYED"


def test_greeks_out_of_their_domain_are_null() -> None:
    greeks = OptionComputation(0, -1.0, 1.5, 0.0, 0.0, -0.1, -0.3, -2.0, -1.0)
    row = option_tick(_ticker(modelGreeks=greeks, impliedVolatility=0.3), 7, AT)
    assert (row.implied_volatility, row.delta, row.gamma, row.vega, row.theta) == (
        0.3, None, None, None, None,
    )  # fmt: skip


def test_include_greeks_false_keeps_iv_only() -> None:
    greeks = OptionComputation(0, 0.25, 0.5, 1.2, 0.0, 0.03, 0.11, -0.05, 101.5)
    row = option_tick(_ticker(modelGreeks=greeks), 7, AT, include_greeks=False)
    assert row.implied_volatility == 0.25 and row.delta is None and row.underlying_price == 101.5


def test_stock_ticker_and_times() -> None:
    ticker = _ticker(last=500.0, bid=499.9, ask=500.1, bidSize=10.0, askSize=NAN, volume=1e6,
                     vwap=NAN, marketDataType=2)  # fmt: skip
    assert stock_tick(ticker, 3, AT) == (3, AT, 500.0, 499.9, 500.1, 10, None, 1000000, None,
                                         "FROZEN")  # fmt: skip
    with pytest.raises(NaiveDatetimeError):
        utc(datetime(2030, 1, 1), AT)
    assert utc(None, AT) is AT and tick_type("x") == "REALTIME"


@given(st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.none(), st.integers()))
def test_clean_price_is_none_or_a_finite_non_negative_float(value: Any) -> None:
    price = clean_price(value)
    assert price is None or (math.isfinite(price) and price >= 0)


@given(st.floats(allow_nan=True, allow_infinity=True))
def test_parsed_delta_is_none_or_within_bounds(delta: float) -> None:
    greeks = OptionComputation(0, 0.2, delta, 1.0, 0.0, 0.01, 0.1, -0.01, 100.0)
    row = option_tick(_ticker(modelGreeks=greeks), 1, AT)
    assert row.delta is None or -1 <= row.delta <= 1
