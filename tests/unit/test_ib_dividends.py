"""IB's dividends tick (456) parsed into what a corporate_actions row needs."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st
from ib_async import Dividends

from alc_data.errors import DataError
from alc_data.ib.dividends import (
    DividendTick,
    NextDividend,
    dividend_tick_from_ticker,
    parse_dividend_tick,
)


def test_ibs_documented_example() -> None:
    tick = parse_dividend_tick("0.83,0.92,20130219,0.23")
    assert tick == DividendTick(0.83, 0.92, date(2013, 2, 19), 0.23)
    assert tick.next_dividend() == NextDividend(date(2013, 2, 19), 0.23)


def test_empty_fields_are_none_and_give_no_next_dividend() -> None:
    tick = parse_dividend_tick("0.83,,,")
    assert tick == DividendTick(0.83, None, None, None)
    assert tick.next_dividend() is None
    assert parse_dividend_tick(",,20130219,").next_dividend() is None  # no amount


@pytest.mark.parametrize(
    "text",
    [
        "",
        "0.83,0.92,20130219",
        "0.83,0.92,20130219,0.23,1",
        "x,0.92,20130219,0.23",
        "0.83,0.92,2013-02-19,0.23",
        "0.83,0.92,20130219,-0.23",
        "0.83,nan,20130219,0.23",
        "0.83,inf,20130219,0.23",
        "0.83,0.92,19000101,0.23",
        "0.83,0.92,99990101,0.23",
    ],
)
def test_malformed_ticks_are_typed_errors(text: str) -> None:
    with pytest.raises(DataError):
        parse_dividend_tick(text)


def test_what_ib_async_made_of_the_simulators_tick() -> None:
    from alc_data.ib.sim.dividends import tick_456
    from alc_data.ib.sim.instruments import underlying_by_symbol

    spec = underlying_by_symbol("SPY")
    assert spec is not None
    text = tick_456(spec, date(2026, 11, 18))
    assert text is not None
    parsed = parse_dividend_tick(text)
    past, future, _, amount = text.split(",")
    via_ib_async = Dividends(float(past), float(future), date(2026, 12, 18), float(amount))
    assert dividend_tick_from_ticker(via_ib_async) == parsed
    assert parsed.next_dividend() == NextDividend(date(2026, 12, 18), float(amount))
    assert dividend_tick_from_ticker(None) is None
    with pytest.raises(DataError):
        dividend_tick_from_ticker(Dividends(-1.0, None, None, None))


@given(
    st.one_of(st.none(), st.floats(0, 1e6)),
    st.one_of(st.none(), st.floats(0, 1e6)),
    st.one_of(st.none(), st.dates(date(1990, 1, 1), date(2030, 12, 31))),
    st.one_of(st.none(), st.floats(0, 1e6)),
)
def test_round_trip(
    past: float | None, future: float | None, day: date | None, amount: float | None
) -> None:
    text = ",".join(
        (
            "" if past is None else repr(past),
            "" if future is None else repr(future),
            "" if day is None else f"{day:%Y%m%d}",
            "" if amount is None else repr(amount),
        )
    )
    assert parse_dividend_tick(text) == DividendTick(past, future, day, amount)
