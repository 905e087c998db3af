"""The simulated market is arbitrage-free at executable prices (bid/ask, zero fees).

Over random seeds, products and instants: every ask at least intrinsic value (American) or the
European lower bound (index); the American put-call bounds with dividends in bid/ask terms
(stock legs at the stock's bid and ask); verticals, butterflies and calendars that cost nothing
at the asks and bids; boxes priced at the model's rate (within 50 bp).
"""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta
from itertools import pairwise

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from alc_data.ib.sim import MarketModel, OptionSpec, Quote, SimClock
from tests.support.values import present

FROZEN_AT = datetime(2026, 11, 18, 16, 0, 7, tzinfo=UTC)
EPS = 1e-9
pytestmark = pytest.mark.timeout(300)


def chain(
    model: MarketModel, symbol: str, expiry: date, at: datetime, width: int
) -> tuple[list[float], dict[tuple[float, str], Quote], OptionSpec]:
    spot = model.quote(model.underlyings_by_symbol(symbol).con_id, at).und_price
    strikes = sorted(model.strikes(symbol, expiry, on=at.date()), key=lambda k: abs(k - spot))
    chosen = sorted(strikes[:width] + strikes[-2:] if len(strikes) > width else strikes)
    quotes = {}
    option = None
    for k in chosen:
        for right in "CP":
            option = model.option(symbol, expiry, k, right)
            assert option is not None
            quotes[k, right] = model.quote(option.con_id, at)
    assert option is not None
    return sorted(set(chosen)), quotes, option


def check_expiry(model: MarketModel, symbol: str, expiry: date, at: datetime) -> None:
    spec = model.underlyings_by_symbol(symbol)
    stock = model.quote(spec.con_id, at)
    s_bid = stock.bid if stock.bid is not None else stock.und_price
    s_ask = stock.ask if stock.ask is not None else stock.und_price
    strikes, q, option = chain(model, symbol, expiry, at, 14)
    t = model.time_to_expiry(option, at)
    disc = math.exp(-model.rate * t)
    european = option.european
    for k in strikes:
        c, p = q[k, "C"], q[k, "P"]
        assert c.greeks is not None and p.greeks is not None
        pv_div = c.greeks.pv_dividend
        assert c.bid is not None and c.ask is not None and p.bid is not None and p.ask is not None
        assert 0.0 <= c.bid < c.ask and 0.0 <= p.bid < p.ask
        if european:
            assert c.ask >= s_bid - pv_div - k * disc - EPS, (k, c)
            assert p.ask >= k * disc - s_ask + pv_div - EPS, (k, p)
            assert c.ask - p.bid >= s_bid - pv_div - k * disc - EPS, k
            assert c.bid - p.ask <= s_ask - pv_div - k * disc + EPS, k
        else:
            assert c.ask >= s_bid - k - EPS, (k, c)  # buy, exercise, sell the stock
            assert p.ask >= k - s_ask - EPS, (k, p)  # buy, buy the stock, exercise
            assert c.ask - p.bid >= s_bid - pv_div - k - EPS, k
            assert c.bid - p.ask <= s_ask - k * disc + EPS, k
    room = 1.0 if not european else disc
    bid = {key: present(quote.bid, key) for key, quote in q.items()}  # options always have both
    ask = {key: present(quote.ask, key) for key, quote in q.items()}
    for k1, k2 in pairwise(strikes):
        assert ask[k1, "C"] >= bid[k2, "C"] - EPS  # a bull call spread is never free
        assert ask[k2, "P"] >= bid[k1, "P"] - EPS
        assert bid[k1, "C"] - ask[k2, "C"] <= (k2 - k1) * room + EPS
        assert bid[k2, "P"] - ask[k1, "P"] <= (k2 - k1) * room + EPS
    for k1, k2, k3 in zip(strikes, strikes[1:], strikes[2:], strict=False):
        lam = (k3 - k2) / (k3 - k1)
        for right in "CP":
            cost = lam * ask[k1, right] + (1 - lam) * ask[k3, right] - bid[k2, right]
            assert cost >= -EPS, (right, k1, k2, k3, cost)  # a butterfly is never free


def check_calendar(model: MarketModel, symbol: str, near: date, far: date, at: datetime) -> None:
    common = sorted(
        set(model.strikes(symbol, near, on=at.date()))
        & set(model.strikes(symbol, far, on=at.date()))
    )
    spot = model.quote(model.underlyings_by_symbol(symbol).con_id, at).und_price
    common = sorted(common, key=lambda k: abs(k - spot))[:10]
    for k in common:
        for right in "CP":
            a = model.option(symbol, near, k, right)
            b = model.option(symbol, far, k, right)
            assert a is not None and b is not None
            if a.european and right == "P":
                continue  # a European put may be worth less with more time (not an arbitrage)
            qa, qb = model.quote(a.con_id, at), model.quote(b.con_id, at)
            assert qa.bid is not None and qb.ask is not None
            assert qb.ask >= qa.bid - EPS, (right, k, near, far, qa.bid, qb.ask)


def alive(model: MarketModel, symbol: str, expiry: date, at: datetime) -> bool:
    option = model.option(symbol, expiry, model.strikes(symbol, expiry, on=at.date())[0], "C")
    return option is not None and not model.is_expired(option, at)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(1, 40),
    symbol=st.sampled_from(["SPY", "QQQ", "IWM", "AAPL", "SPX"]),
    offset=st.integers(0, 600 * 86_400),
    nth=st.integers(0, 40),
)
def test_no_arbitrage_at_executable_prices(seed: int, symbol: str, offset: int, nth: int) -> None:
    at = FROZEN_AT - timedelta(seconds=offset)
    model = MarketModel(seed, clock=SimClock(at))
    listed = [e for e in model.expirations(symbol, at.date()) if alive(model, symbol, e, at)]
    expiry = listed[nth % len(listed)]
    check_expiry(model, symbol, expiry, at)
    later = listed[(nth % len(listed)) + 1 :]
    if later:
        check_calendar(model, symbol, expiry, later[min(len(later) - 1, nth % 3)], at)


def box_legs(
    model: MarketModel, symbol: str, expiry: date, k1: float, k2: float
) -> tuple[dict[tuple[float, str], Quote], float]:
    legs = {}
    option = None
    for k in (k1, k2):
        for right in "CP":
            option = model.option(symbol, expiry, k, right)
            assert option is not None
            legs[k, right] = model.quote(option.con_id, FROZEN_AT)
    assert option is not None
    return legs, model.time_to_expiry(option, FROZEN_AT)


def boxes(model: MarketModel, symbol: str) -> list[tuple[date, float, float]]:
    spot = model.quote(model.underlyings_by_symbol(symbol).con_id, FROZEN_AT).und_price
    found = []
    for expiry in model.expirations(symbol, FROZEN_AT.date()):
        strikes = model.strikes(symbol, expiry)
        near = [k for k in strikes if abs(k / spot - 1) < 0.06]
        for k1, k2 in ((near[0], near[-1]), (near[len(near) // 4], near[3 * len(near) // 4])):
            found.append((expiry, k1, k2))
    return found


def test_index_boxes_imply_the_model_rate() -> None:
    """European (SPX) boxes: the box's midpoint prices at the model's rate, within 50 bp."""
    model = MarketModel(7, clock=SimClock(FROZEN_AT))
    checked = 0
    for expiry, k1, k2 in boxes(model, "SPX"):
        legs, t = box_legs(model, "SPX", expiry, k1, k2)
        if (k2 - k1) * t < 40.0:
            continue  # four legs' ticks (0.10) would move the rate by more than 50 bp
        mids = {key: q.mid for key, q in legs.items()}
        box = mids[k1, "C"] - mids[k2, "C"] - mids[k1, "P"] + mids[k2, "P"]  # type: ignore[operator]
        implied = -math.log(box / (k2 - k1)) / t
        assert abs(implied - model.rate) <= 0.005, (expiry, k1, k2, implied)
        checked += 1
    assert checked >= 10  # positive control: long, wide boxes were found and checked


@pytest.mark.parametrize("symbol", ["SPY", "AAPL", "IWM"])
def test_american_boxes_within_their_bounds(symbol: str) -> None:
    """An American box lies within the bounds the American put-call bounds imply:
    ``K2 e^(-rT) - K1 - D <= box <= K2 - K1 e^(-rT) + D`` (a deep in-the-money put is worth its
    intrinsic value, so the box may price above the rate's value): never free at executable
    prices."""
    model = MarketModel(7, clock=SimClock(FROZEN_AT))
    checked = 0
    for expiry, k1, k2 in boxes(model, symbol):
        legs, t = box_legs(model, symbol, expiry, k1, k2)
        c1, c2, p1, p2 = legs[k1, "C"], legs[k2, "C"], legs[k1, "P"], legs[k2, "P"]
        assert c1.ask and c2.bid is not None and p1.bid is not None and p2.ask
        buy = c1.ask - c2.bid - p1.bid + p2.ask
        sell = c1.bid - c2.ask - p1.ask + p2.bid  # type: ignore[operator]
        disc, pv_div = math.exp(-model.rate * t), c1.greeks.pv_dividend  # type: ignore[union-attr]
        assert buy >= k2 * disc - k1 - pv_div - EPS, (expiry, k1, k2, buy)
        assert sell <= k2 - k1 * disc + pv_div + EPS, (expiry, k1, k2, sell)
        checked += 1
    assert checked >= 20
