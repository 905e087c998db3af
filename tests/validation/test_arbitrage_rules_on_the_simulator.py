"""The no-arbitrage rules on the simulator's American and European chains.

An unplanted simulated market (American ETF and stock options with discrete dividends, European
index options) draws no finding from ``arbitrage_bounds`` or ``put_call_parity``; the same
chains with one quote moved below its American bound (or across the parity band) do.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from alc_data.config import ValidationSettings
from alc_data.ib.sim import MarketModel, SimClock
from alc_data.ib.sim.dividends import dividends_between
from alc_data.validation import MarketDataSnapshot, ValidationContext
from alc_data.validation.rules_arbitrage import (
    TOLERANCE,
    ArbitrageBoundsRule,
    PutCallParityRule,
)

pytestmark = pytest.mark.timeout(300)
INSTANTS = [
    datetime(2026, 11, 18, 16, 0, 7, tzinfo=UTC),  # Wednesday 11:00 New York
    datetime(2026, 12, 17, 20, 30, tzinfo=UTC),  # the afternoon before SPY's ex-date
    datetime(2026, 6, 1, 14, 45, tzinfo=UTC),
    datetime(2025, 12, 31, 18, 0, tzinfo=UTC),
]
SYMBOLS = ("SPY", "QQQ", "IWM", "AAPL", "SPX")


def chain_snapshots(model: MarketModel, symbol: str, at: datetime) -> list[MarketDataSnapshot]:
    """Every listed contract of a few expiries, as the collector would store them."""
    spec = model.underlyings_by_symbol(symbol)
    out = []
    expiries = model.expirations(symbol, at.date())
    for expiry in expiries[:3] + expiries[8:10] + expiries[-2:]:
        for k in model.strikes(symbol, expiry, on=at.date()):
            for right in "CP":
                option = model.option(symbol, expiry, k, right)
                assert option is not None
                if model.is_expired(option, at):
                    continue
                q = model.quote(option.con_id, at)
                out.append(
                    MarketDataSnapshot(
                        time=at,
                        contract_id=option.con_id,
                        bid_price=q.bid,
                        ask_price=q.ask,
                        underlying_price=q.und_price,
                        underlying=symbol,
                        expiry=expiry,
                        strike=k,
                        right=right,
                        underlying_id=spec.index + 1,
                        sec_type=spec.sec_type,
                    )
                )
    return out


def context(model: MarketModel, at: datetime) -> ValidationContext:
    """Dividends as corporate_actions hold them (what the simulator publishes in tick 456)."""
    dividends = {
        spec.index + 1: [
            (d.ex_date, d.amount)
            for d in dividends_between(spec, at.date() - timedelta(days=10), date(2030, 1, 1))
        ]
        for spec in model.underlyings
    }
    limits = ValidationSettings(ALC_RISK_FREE_RATE=model.rate)
    return ValidationContext(limits=limits, now=at + timedelta(minutes=1), dividends=dividends)


@pytest.mark.parametrize("at", INSTANTS)
def test_an_unplanted_simulated_market_draws_no_finding(at: datetime) -> None:
    model = MarketModel(7, clock=SimClock(at))
    snapshots = [s for symbol in SYMBOLS for s in chain_snapshots(model, symbol, at)]
    assert len(snapshots) > 2000
    ctx = context(model, at)
    assert ArbitrageBoundsRule().check(snapshots, ctx) == []
    assert PutCallParityRule().check(snapshots, ctx) == []


def test_a_sub_intrinsic_american_ask_is_found_and_a_european_one_is_not() -> None:
    at = INSTANTS[0]
    model = MarketModel(7, clock=SimClock(at))
    spy = chain_snapshots(model, "SPY", at)
    deep_put = max((s for s in spy if s.right == "P"), key=lambda s: s.strike or 0.0)
    assert deep_put.strike is not None and deep_put.underlying_price is not None
    intrinsic = deep_put.strike - deep_put.underlying_price
    below = intrinsic - 2 * TOLERANCE * deep_put.underlying_price
    planted = replace(deep_put, bid_price=below - 0.05, ask_price=below)
    findings = ArbitrageBoundsRule().check([planted], context(model, at))
    assert [f.contract_id for f in findings] == [planted.contract_id]
    # the same quote on a European (index-style) contract is above its lower bound
    european = replace(planted, sec_type="IND", underlying="SPX")
    lower = planted.strike * 0.9 - planted.underlying_price  # type: ignore[operator]
    assert below > lower and ArbitrageBoundsRule().check([european], context(model, at)) == []


def test_a_planted_parity_violation_is_found() -> None:
    at = INSTANTS[0]
    model = MarketModel(7, clock=SimClock(at))
    spy = chain_snapshots(model, "SPY", at)
    ctx = context(model, at)
    assert PutCallParityRule().check(spy, ctx) == []
    call = next(s for s in spy if s.right == "C" and s.expiry == spy[-1].expiry)
    spot = call.underlying_price or 0.0
    cheap = replace(call, bid_price=0.0, ask_price=0.01)  # C - P far below S - D - K
    findings = PutCallParityRule().check([*spy, cheap], context(model, at))
    assert spot > 0 and [f.contract_id for f in findings] == [call.contract_id]
