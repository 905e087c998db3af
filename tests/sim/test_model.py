"""The market model on its own: determinism, listings, prices, greeks and bars."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta
from itertools import pairwise

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alc_data.ib.sim import HistoryError, MarketModel, SimClock
from alc_data.ib.sim.dividends import dividends_between
from alc_data.ib.sim.listings import expiry_kind

FROZEN_AT = datetime(2026, 11, 18, 16, 0, 7, tzinfo=UTC)  # a Wednesday, 11:00 New York

pytestmark = pytest.mark.timeout(30)


@pytest.fixture
def model() -> MarketModel:
    return MarketModel(7, clock=SimClock(FROZEN_AT))


def atm(model: MarketModel, symbol: str, expiry: date) -> float:
    spot = model.path(symbol).price(FROZEN_AT.timestamp())
    return min(model.strikes(symbol, expiry), key=lambda k: abs(k - spot))


def test_same_seed_same_market_other_seed_other_market() -> None:
    a, b, c = (MarketModel(s, clock=SimClock(FROZEN_AT)) for s in (7, 7, 8))
    assert a.quote(756733, FROZEN_AT) == b.quote(756733, FROZEN_AT)
    assert a.quote(756733, FROZEN_AT).last != c.quote(756733, FROZEN_AT).last
    bars_a = a.bars(756733, duration="2 D", bar_size="5 mins", what_to_show="TRADES")
    assert bars_a == b.bars(756733, duration="2 D", bar_size="5 mins", what_to_show="TRADES")


def test_realistic_prices(model: MarketModel) -> None:
    for day in range(0, 730, 30):
        at = FROZEN_AT - timedelta(days=day)
        assert 400 < model.quote(756733, at).last < 700  # SPY
        assert 4000 < model.quote(416904, at).last < 7000  # SPX


def test_listings_by_product(model: MarketModel) -> None:
    today = date(2026, 11, 18)  # a Wednesday
    spy = model.expirations("SPY", today)
    assert spy[:5] == [date(2026, 11, d) for d in (18, 19, 20, 23, 24)]  # dailies Mon-Fri
    spec = model.underlyings_by_symbol("SPY")
    kinds = {expiry_kind(spec, "SPY", e) for e in spy}
    assert kinds == {"daily", "weekly", "monthly", "quarterly", "leaps"}
    assert date(2026, 12, 31) in spy  # the quarter's last trading day
    assert 790 <= (max(spy) - today).days <= 820  # LEAPS about two years out
    aapl = model.expirations("AAPL", today)
    assert all(
        expiry_kind(model.underlyings_by_symbol("AAPL"), "AAPL", e)
        in {"weekly", "monthly", "leaps"}
        for e in aapl
    )
    assert date(2026, 11, 19) not in aapl and date(2026, 12, 24) in aapl  # Christmas: Thursday
    assert date(2026, 4, 2) in model.expirations("AAPL", date(2026, 3, 30))  # Good Friday
    spx = model.listed("SPX", today)
    assert ("SPX", date(2026, 11, 20)) in spx and ("SPXW", date(2026, 11, 20)) in spx
    assert ("SPX", date(2026, 11, 19)) not in spx and ("SPXW", date(2026, 11, 19)) in spx
    both = set(model.strikes("SPX", date(2026, 11, 20), "SPX")) & set(
        model.strikes("SPX", date(2026, 11, 20), "SPXW")
    )
    strike = sorted(both)[len(both) // 2]
    am = model.option("SPX", date(2026, 11, 20), strike, "C", "SPX")
    pm = model.option("SPX", date(2026, 11, 20), strike, "C", "SPXW")
    assert am and pm and am.con_id != pm.con_id
    assert (am.settlement, pm.settlement) == ("AM", "PM") and am.european and pm.european
    assert am.expires_at == datetime(2026, 11, 20, 14, 30, tzinfo=UTC)  # the open's prints


def test_strike_grids_widen_away_from_the_money(model: MarketModel) -> None:
    spot = model.path("SPY").price(FROZEN_AT.timestamp())
    expiry = date(2026, 12, 18)  # a monthly: the widest band
    strikes = model.strikes("SPY", expiry)
    steps = {round(b - a, 4) for a, b in pairwise(strikes) if abs(a - spot) < 0.02 * spot}
    far = {
        round(b - a, 4)
        for a, b in pairwise(strikes)
        if abs(a - spot) > 0.2 * spot and abs(b - spot) > 0.2 * spot
    }
    assert steps == {1.0} and far == {5.0}
    assert all(k % 5 == 0 for k in model.strikes("SPX", model.expirations("SPX")[1]))


def test_dividends_drop_the_price_on_the_ex_date(model: MarketModel) -> None:
    spec = model.underlyings_by_symbol("SPY")
    [dividend] = dividends_between(spec, date(2026, 9, 1), date(2026, 9, 30))
    ex = dividend.ex_at.timestamp()
    path = model.path("SPY")
    before, after = path.price(ex - 20.0), path.price(ex)
    # the drop is the dividend plus 20 seconds of the path's own move
    assert before - after == pytest.approx(dividend.amount, abs=0.5)
    assert model.underlyings_by_symbol("SPX").dividends is None


def test_option_quotes_are_consistent(model: MarketModel) -> None:
    expiry = model.expirations("SPY", FROZEN_AT.date())[20]
    k = atm(model, "SPY", expiry)
    call = model.option("SPY", expiry, k, "C")
    put = model.option("SPY", expiry, k, "P")
    assert call and put
    qc, qp = model.quote(call.con_id, FROZEN_AT), model.quote(put.con_id, FROZEN_AT)
    assert qc.greeks and qp.greeks
    for q in (qc, qp):
        assert q.bid is not None and q.ask is not None and q.greeks is not None
        assert 0 < q.bid < q.greeks.price < q.ask
        assert q.open_interest and q.open_interest > 0
    assert 0.4 < qc.greeks.delta < 0.7 and -0.6 < qp.greeks.delta < -0.3
    assert qc.greeks.pv_dividend > 0  # SPY goes ex before this expiry
    t = model.time_to_expiry(call, FROZEN_AT)
    s, d = qc.und_price, qc.greeks.pv_dividend
    assert s - d - k <= qc.greeks.price - qp.greeks.price <= s - k * math.exp(-model.rate * t)


def test_near_the_money_spy_spreads_are_a_penny_or_two(model: MarketModel) -> None:
    spot = model.path("SPY").price(FROZEN_AT.timestamp())
    widths = []
    for expiry in model.expirations("SPY", FROZEN_AT.date())[:6]:
        for k in sorted(model.strikes("SPY", expiry), key=lambda k: abs(k - spot))[:4]:
            for right in "CP":
                q = model.quote(model.option("SPY", expiry, k, right).con_id, FROZEN_AT)  # type: ignore[union-attr]
                widths.append(round(q.ask - q.bid, 2))  # type: ignore[operator]
    assert max(widths) <= 0.02 and min(widths) == 0.01
    leaps = model.expirations("SPY", FROZEN_AT.date())[-1]
    k = min(model.strikes("SPY", leaps), key=lambda k: abs(k - spot))
    far = model.quote(model.option("SPY", leaps, k, "C").con_id, FROZEN_AT)  # type: ignore[union-attr]
    assert far.ask - far.bid > 0.1  # type: ignore[operator]


def test_smile_spreads_and_zero_bids(model: MarketModel) -> None:
    expiry = model.expirations("SPY", FROZEN_AT.date())[2]
    strikes = model.strikes("SPY", expiry)
    k0 = atm(model, "SPY", expiry)
    quotes = {
        k: model.quote(model.option("SPY", expiry, k, "P").con_id, FROZEN_AT)  # type: ignore[union-attr]
        for k in (strikes[0], k0 - 15, k0)
    }
    far, otm, at_money = quotes[strikes[0]], quotes[k0 - 15], quotes[k0]
    assert far.implied_vol > otm.implied_vol > at_money.implied_vol  # put skew
    assert far.bid == 0.0 and far.bid_size == 0 and far.bid_greeks is None
    assert far.ask is not None and far.ask > 0
    rel = [(q.ask - q.bid) / q.mid for q in (otm, at_money)]  # type: ignore[operator]
    assert rel[0] > rel[1]


def test_option_bars_have_consistent_ohlc_and_start_at_the_quote(model: MarketModel) -> None:
    expiry = model.expirations("QQQ", FROZEN_AT.date())[1]
    option = model.option("QQQ", expiry, atm(model, "QQQ", expiry), "C")
    assert option
    for what in ("MIDPOINT", "BID", "ASK", "BID_ASK", "TRADES"):
        bars = model.bars(option.con_id, duration="3600 S", bar_size="1 min", what_to_show=what)
        assert bars, what
        for bar in bars:
            assert bar.low <= min(bar.open, bar.close) <= max(bar.open, bar.close) <= bar.high
    mid_bars = model.bars(
        option.con_id, duration="600 S", bar_size="1 min", what_to_show="MIDPOINT"
    )
    first = model.quote(option.con_id, mid_bars[0].time)
    assert mid_bars[0].open == pytest.approx(first.mid, abs=1e-3)


def test_history_semantics(model: MarketModel) -> None:
    daily = model.bars(
        756733, duration="1 M", bar_size="1 day", what_to_show="TRADES", use_rth=True
    )
    assert 19 <= len(daily) <= 23
    assert all(b.time.weekday() < 5 for b in daily)
    rth = model.bars(
        756733,
        end="20261117 16:00:00 US/Eastern",
        duration="1 D",
        bar_size="1 min",
        what_to_show="MIDPOINT",
        use_rth=True,
    )
    assert len(rth) == 390 and rth[0].time == datetime(2026, 11, 17, 14, 30, tzinfo=UTC)
    extended = model.bars(
        756733, end="20261118-01:00:00", duration="1 D", bar_size="1 hour", what_to_show="BID_ASK"
    )
    assert len(extended) == 16 and extended[0].time == datetime(2026, 11, 17, 9, 0, tzinfo=UTC)
    option = model.option("SPY", date(2026, 11, 20), atm(model, "SPY", date(2026, 11, 20)), "C")
    assert option
    bars = model.bars(option.con_id, end="20261118-01:00:00", duration="1 D", bar_size="1 hour")
    assert bars[0].time == datetime(2026, 11, 17, 14, 30, tzinfo=UTC)  # options: regular hours
    assert bars[-1].time == datetime(2026, 11, 17, 20, 0, tzinfo=UTC)  # the 16:00 close
    with pytest.raises(HistoryError) as bad:
        model.bars(756733, bar_size="0 mins")
    assert bad.value.code == 321
    with pytest.raises(HistoryError) as info:
        model.bars(756733, end="20200101-00:00:00", duration="1 D", bar_size="1 min")
    assert info.value.code == 162


@settings(max_examples=40, deadline=None)
@given(
    offset=st.integers(0, 700 * 86_400),
    moneyness=st.floats(-0.1, 0.1),
    symbol=st.sampled_from(["SPY", "QQQ", "AAPL", "IWM", "SPX"]),
    right=st.sampled_from(["C", "P"]),
    nth=st.integers(0, 3),
)
def test_quotes_and_bars_are_sane_everywhere(
    offset: int, moneyness: float, symbol: str, right: str, nth: int
) -> None:
    at = FROZEN_AT - timedelta(seconds=offset)
    model = MarketModel(3, clock=SimClock(at))
    expiry = model.expirations(symbol, at.date())[nth + 3]
    spot = model.path(symbol).price(at.timestamp())
    strike = min(model.strikes(symbol, expiry), key=lambda k: abs(k - spot * (1 + moneyness)))
    option = model.option(symbol, expiry, strike, right)
    assert option and model.contract(option.con_id) == option
    q = model.quote(option.con_id, at)
    assert q.bid is not None and q.ask is not None and q.greeks is not None
    assert 0.0 <= q.bid < q.ask and (q.bid_size == 0) == (q.bid == 0.0)
    assert q.bid <= q.greeks.price <= q.ask
    assert -1.0 <= q.greeks.delta <= 1.0 and q.greeks.gamma >= 0 and q.greeks.vega >= 0
    for what in ("BID_ASK", "MIDPOINT", "TRADES"):
        try:
            bars = model.bars(
                option.con_id, duration="1800 S", bar_size="5 mins", what_to_show=what
            )
        except HistoryError as exc:  # an option listed minutes ago, or no trades
            assert exc.code == 162
            continue
        for b in bars:
            assert b.low <= min(b.open, b.close) <= max(b.open, b.close) <= b.high


def test_option_volume_only_grows_within_a_day(model: MarketModel) -> None:
    """Cumulative volume must not fall as the underlying moves (the validator checks this)."""
    day_start = FROZEN_AT.replace(hour=0, minute=0, second=0, microsecond=0)
    expiry = model.expirations("SPY", day_start.date())[0]
    spot = model.path("SPY").price(day_start.timestamp())
    strikes = sorted(model.strikes("SPY", expiry), key=lambda k: abs(k - spot))[:12]
    for strike in strikes:
        option = model.option("SPY", expiry, strike, "C")
        assert option is not None
        volumes = [
            model.quote(option.con_id, day_start + timedelta(seconds=37 * i)).volume
            for i in range(1, 2000)
        ]
        assert all(a <= b for a, b in pairwise(volumes)), strike


def test_the_model_says_whether_an_instant_is_in_session(model: MarketModel) -> None:
    spy, spx = 756733, 416904
    option = model.option("SPY", date(2026, 11, 20), atm(model, "SPY", date(2026, 11, 20)), "C")
    aapl = model.option("AAPL", date(2026, 11, 20), 200.0, "C")
    assert option and aapl
    wednesday = datetime(2026, 11, 18, 21, 10, tzinfo=UTC)  # 16:10 New York
    assert not model.in_session(spy, wednesday)  # the stock's regular session ended at 16:00
    assert model.in_session(spy, wednesday, extended=True)  # extended hours run to 20:00
    assert model.in_session(option.con_id, wednesday)  # SPY options trade to 16:15
    assert not model.in_session(aapl.con_id, wednesday)  # equity options close at 16:00
    assert not model.in_session(spx, wednesday, extended=True)  # an index has no extended hours
    saturday = datetime(2026, 11, 21, 15, 0, tzinfo=UTC)
    assert not any(model.in_session(c, saturday, extended=True) for c in (spy, option.con_id))
    half_day = datetime(2026, 11, 27, 18, 30, tzinfo=UTC)  # 13:30 on the day after Thanksgiving
    assert not model.in_session(spy, half_day) and model.in_session(
        option.con_id, half_day - timedelta(minutes=20)
    )
    assert model.in_session(spy, datetime(2026, 11, 18, 15, 0, tzinfo=UTC))  # positive control
