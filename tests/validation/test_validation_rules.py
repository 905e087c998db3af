"""Example tests of every built-in rule, at each threshold's edge."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from alc_data.config import ValidationSettings
from alc_data.validation import (
    ArbitrageBoundsRule,
    BatchRule,
    GapRule,
    GreeksBoundsRule,
    MarketDataSnapshot,
    PriceSanityRule,
    PutCallParityRule,
    StalenessRule,
    TimeConsistencyRule,
    ValidationResult,
    VolumeMonotonicRule,
    WideSpreadRule,
)
from tests.support.validating import (
    EQUITY_CLOSE,
    LATE_CLOSE,
    NOW,
    OPEN,
    context,
    run,
    snap,
)

INVALID, WARNING = ValidationResult.INVALID, ValidationResult.WARNING


def results(rule: BatchRule, *snapshots: MarketDataSnapshot, **ctx: Any) -> list[ValidationResult]:
    """The verdicts ``rule`` gives ``snapshots`` (with a context built from ``ctx``)."""
    return [f.result for f in run(rule, *snapshots, ctx=context(**ctx) if ctx else None)]


# price sanity ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("bid", "ask", "expected"),
    [
        (1.0, 1.01, []),
        (1.0, 1.0, []),  # locked: a state
        (0.0, 0.05, []),  # zero bid: a state
        (1.01, 1.0, [INVALID]),  # crossed
        (-0.01, 1.0, [INVALID]),
        (1.0, float("nan"), [INVALID]),
        (1.0, float("inf"), [INVALID]),
        (None, 1.0, []),
    ],
)
def test_price_sanity_edges(bid: float, ask: float, expected: list[ValidationResult]) -> None:
    assert results(PriceSanityRule(), snap(bid_price=bid, ask_price=ask)) == expected


@pytest.mark.parametrize("field", ["bid_size", "ask_size", "last_size", "volume", "open_interest",
                                   "last_price", "underlying_price"])  # fmt: skip
def test_negative_size_or_price_is_invalid_and_zero_is_not(field: str) -> None:
    assert results(PriceSanityRule(), snap(**{field: -1})) == [INVALID]
    assert results(PriceSanityRule(), snap(**{field: 0})) == []


def test_crossed_finding_is_critical_and_says_why() -> None:
    [finding] = run(PriceSanityRule(), snap(bid_price=2.0, ask_price=1.5))
    assert finding.critical and finding.severity == "critical"
    assert "crossed" in finding.message


# spread ----------------------------------------------------------------------------------


def test_spread_at_the_limit_is_fine_and_just_above_is_a_warning() -> None:
    # mid 10, spread 1.0 = exactly 10 % of mid: not wider than the limit
    assert results(WideSpreadRule(), snap(bid_price=9.5, ask_price=10.5)) == []
    assert results(WideSpreadRule(), snap(bid_price=9.4999, ask_price=10.5001)) == [WARNING]
    eighth = ValidationSettings(MAX_SPREAD_PERCENT=0.125)
    assert results(WideSpreadRule(), snap(bid_price=0.9375, ask_price=1.0625), limits=eighth) == []
    wider = snap(bid_price=0.9375, ask_price=1.0625 + 2**-20)
    assert results(WideSpreadRule(), wider, limits=eighth) == [WARNING]


def test_spread_limit_comes_from_settings() -> None:
    quote = snap(bid_price=0.9, ask_price=1.1)  # 20 % of mid
    assert results(WideSpreadRule(), quote) == [WARNING]
    assert (
        results(WideSpreadRule(), quote, limits=ValidationSettings(MAX_SPREAD_PERCENT=0.25)) == []
    )


def test_zero_bid_and_crossed_quotes_are_not_wide_spreads() -> None:
    assert results(WideSpreadRule(), snap(bid_price=0.0, ask_price=0.05)) == []
    assert results(WideSpreadRule(), snap(bid_price=2.0, ask_price=1.0)) == []


# greeks ----------------------------------------------------------------------------------

EPS = 1e-6


@pytest.mark.parametrize(
    ("fields", "ok"),
    [
        ({"delta": 1.0}, True),
        ({"delta": 1.0 + EPS}, False),
        ({"delta": 0.0}, True),
        ({"delta": -EPS}, False),  # a call's delta is >= 0
        ({"right": "P", "delta": -1.0}, True),
        ({"right": "P", "delta": -1.0 - EPS}, False),
        ({"right": "P", "delta": EPS}, False),  # a put's delta is <= 0
        ({"gamma": 0.0}, True),
        ({"gamma": -EPS}, False),
        ({"vega": 0.0}, True),
        ({"vega": -EPS}, False),
        ({"vega": 250.0, "theta": -120.0, "gamma": 1e-4}, True),  # index-option magnitudes
        ({"implied_volatility": 10.0}, True),
        ({"implied_volatility": 10.0 + EPS}, False),
        ({"implied_volatility": 0.0}, False),
        ({"implied_volatility": 1e-4}, True),
        ({"theta": float("inf")}, False),
        ({"delta": None, "gamma": None, "vega": None, "implied_volatility": None}, True),
    ],
)
def test_greeks_edges(fields: dict[str, object], ok: bool) -> None:
    assert results(GreeksBoundsRule(), snap(**fields)) == ([] if ok else [INVALID])


# time ------------------------------------------------------------------------------------


def test_naive_time_is_invalid() -> None:
    assert results(TimeConsistencyRule(), snap(time=datetime(2026, 11, 24, 15, 0))) == [INVALID]


def test_future_time_beyond_the_clock_skew_is_invalid() -> None:
    assert results(TimeConsistencyRule(), snap(time=NOW + timedelta(seconds=5)), now=NOW) == []
    late = NOW + timedelta(seconds=5, microseconds=1)
    assert results(TimeConsistencyRule(), snap(time=late), now=NOW) == [INVALID]


@pytest.mark.parametrize(
    ("underlying", "sec_type", "at", "ok"),
    [
        ("AAPL", "STK", OPEN, True),
        ("AAPL", "STK", OPEN - timedelta(microseconds=1), False),
        ("AAPL", "STK", EQUITY_CLOSE, True),
        ("AAPL", "STK", EQUITY_CLOSE + timedelta(seconds=1), False),
        ("SPY", "STK", EQUITY_CLOSE + timedelta(minutes=10), True),
        ("SPY", "STK", LATE_CLOSE, True),
        ("SPY", "STK", LATE_CLOSE + timedelta(seconds=1), False),
        ("QQQ", "STK", LATE_CLOSE, True),
        ("IWM", "STK", LATE_CLOSE, True),
        ("SPX", "IND", LATE_CLOSE, True),
        ("NDX", "IND", LATE_CLOSE - timedelta(seconds=1), True),
        ("AAPL", "STK", datetime(2026, 11, 22, 16, 0, tzinfo=UTC), False),  # Sunday
        ("AAPL", "STK", datetime(2026, 11, 26, 16, 0, tzinfo=UTC), False),  # Thanksgiving
        ("AAPL", "STK", datetime(2026, 11, 27, 18, 0, 1, tzinfo=UTC), False),  # after 13:00 ET
        ("SPY", "STK", datetime(2026, 11, 27, 18, 15, tzinfo=UTC), True),  # 13:15 ET early close
    ],
)
def test_session_hours_per_product(underlying: str, sec_type: str, at: datetime, ok: bool) -> None:
    quote = snap(time=at, underlying=underlying, sec_type=sec_type)
    assert results(TimeConsistencyRule(), quote, now=at + timedelta(days=1)) == (
        [] if ok else [WARNING]
    )


def test_frozen_quotes_are_exempt_and_delayed_ones_get_fifteen_minutes() -> None:
    after = EQUITY_CLOSE + timedelta(minutes=10)
    quote = snap(time=after, underlying="AAPL")
    assert results(TimeConsistencyRule(), quote, now=NOW + timedelta(hours=2)) == [WARNING]
    for tick_type in ("FROZEN", "DELAYED"):
        frozen = snap(time=after, underlying="AAPL", tick_type=tick_type)
        assert results(TimeConsistencyRule(), frozen, now=NOW + timedelta(hours=2)) == []


# gaps, staleness, volume -----------------------------------------------------------------


def ticks(contract_id: int, *times: datetime, **fields: object) -> list:  # type: ignore[type-arg]
    return [snap(contract_id=contract_id, time=t, **fields) for t in times]


def test_gap_of_exactly_the_threshold_is_fine_and_longer_is_flagged() -> None:
    t0 = OPEN + timedelta(hours=1)
    assert results(GapRule(), *ticks(1, t0, t0 + timedelta(seconds=300))) == []
    found = run(GapRule(), *ticks(1, t0, t0 + timedelta(seconds=300, microseconds=1)))
    assert [f.result for f in found] == [WARNING]
    assert found[0].metric_value == pytest.approx(300.000001)


def test_overnight_and_other_contracts_are_not_gaps() -> None:
    yesterday_close = EQUITY_CLOSE - timedelta(days=1)
    assert results(GapRule(), *ticks(1, yesterday_close, OPEN)) == []
    interleaved = [*ticks(1, OPEN), *ticks(2, OPEN + timedelta(minutes=10)),
                   *ticks(1, OPEN + timedelta(minutes=4))]  # fmt: skip
    assert results(GapRule(), *interleaved) == []


def test_gap_threshold_comes_from_settings() -> None:
    t0 = OPEN + timedelta(hours=1)
    pair = ticks(1, t0, t0 + timedelta(seconds=100))
    assert results(GapRule(), *pair, limits=ValidationSettings(ALC_GAP_SECONDS=60)) == [WARNING]


def test_staleness_at_the_threshold() -> None:
    fresh = ticks(1, NOW - timedelta(seconds=299))
    stale = ticks(2, NOW - timedelta(seconds=300))
    found = run(StalenessRule(), *fresh, *stale, ctx=context(as_of=NOW))
    assert [(f.contract_id, f.result, f.time) for f in found] == [(2, WARNING, None)]


def test_staleness_after_the_close_is_measured_at_the_close() -> None:
    after = LATE_CLOSE + timedelta(hours=2)
    ok = ticks(1, LATE_CLOSE - timedelta(seconds=10))
    stale = ticks(2, LATE_CLOSE - timedelta(seconds=400))
    found = run(StalenessRule(), *ok, *stale, ctx=context(as_of=after, now=after))
    assert [f.contract_id for f in found] == [2]


def test_volume_must_not_fall_within_a_session_but_resets_overnight() -> None:
    t0 = OPEN + timedelta(hours=1)
    same_day = [snap(time=t0, volume=100), snap(time=t0 + timedelta(seconds=1), volume=99)]
    assert results(VolumeMonotonicRule(), *same_day) == [INVALID]
    flat = [snap(time=t0, volume=100), snap(time=t0 + timedelta(seconds=1), volume=100)]
    assert results(VolumeMonotonicRule(), *flat) == []
    overnight = [snap(time=t0 - timedelta(days=1), volume=5000), snap(time=t0, volume=10)]
    assert results(VolumeMonotonicRule(), *overnight) == []


# no-arbitrage ----------------------------------------------------------------------------


def test_call_bid_above_the_underlying_is_invalid_beyond_the_tolerance() -> None:
    # S = 500: tolerance 0.5 % = 2.5
    assert results(ArbitrageBoundsRule(), snap(bid_price=502.5, ask_price=503.0)) == []
    assert results(ArbitrageBoundsRule(), snap(bid_price=502.51, ask_price=503.0)) == [INVALID]


def test_american_call_ask_below_intrinsic_is_invalid() -> None:
    zero_rate = ValidationSettings(ALC_RISK_FREE_RATE=0.0)
    itm = snap(strike=450.0, bid_price=47.0, ask_price=47.5)  # intrinsic 50, tolerance 2.5
    assert results(ArbitrageBoundsRule(), itm, limits=zero_rate) == []
    cheap = snap(strike=450.0, bid_price=47.0, ask_price=47.49)
    assert results(ArbitrageBoundsRule(), cheap, limits=zero_rate) == [INVALID]
    # with interest the bound is S - K e^(-rT) = 51.18 (r = 4 %, T = 24 days)
    assert results(ArbitrageBoundsRule(), itm) == [INVALID]
    assert results(ArbitrageBoundsRule(), snap(strike=450.0, bid_price=48.5, ask_price=48.7)) == []


def test_put_bounds_use_the_strike() -> None:
    put = snap(right="P", delta=-0.5, strike=400.0, bid_price=402.6, ask_price=403.0)
    assert results(ArbitrageBoundsRule(), put) == [INVALID]
    deep = snap(right="P", delta=-0.9, strike=600.0, bid_price=97.0, ask_price=97.5)
    assert results(ArbitrageBoundsRule(), deep) == []  # intrinsic 100, tolerance 2.5
    cheap = snap(right="P", delta=-0.9, strike=600.0, bid_price=97.0, ask_price=97.49)
    assert results(ArbitrageBoundsRule(), cheap) == [INVALID]


def test_european_index_put_may_trade_below_intrinsic() -> None:
    # European: the lower bound is K e^(-rT) - S, not K - S (T = 24 days, r = 4 %)
    put = snap(underlying="SPX", sec_type="IND", right="P", delta=-0.9, strike=5100.0,
               underlying_price=5000.0, bid_price=85.0, ask_price=86.0)  # fmt: skip
    assert results(ArbitrageBoundsRule(), put) == []
    american = snap(right="P", delta=-0.9, strike=5100.0, underlying_price=5000.0,
                    bid_price=60.0, ask_price=74.0)  # fmt: skip
    assert results(ArbitrageBoundsRule(), american) == [INVALID]


def pair(call_bid: float, put_bid: float, spread: float = 0.1) -> list:  # type: ignore[type-arg]
    t = NOW - timedelta(hours=1)
    return [
        snap(contract_id=1, time=t, right="C", bid_price=call_bid, ask_price=call_bid + spread),
        snap(contract_id=2, time=t, right="P", delta=-0.5, bid_price=put_bid,
             ask_price=put_bid + spread),
    ]  # fmt: skip


def test_parity_upper_edge() -> None:
    # S = K = 500, T = 24/365, r = 0.04: call - put <= 1.3135 (+ tolerance 2.5)
    assert results(PutCallParityRule(), *pair(10.0, 6.2)) == []
    assert results(PutCallParityRule(), *pair(10.0, 6.0)) == [WARNING]


def test_parity_lower_edge_moves_with_known_dividends() -> None:
    quotes = pair(5.0, 7.7)  # call ask - put bid = -2.6 < 0 - 2.5
    assert results(PutCallParityRule(), *quotes) == [WARNING]
    dividends = {1: [(date(2026, 12, 1), 2.0)]}
    assert results(PutCallParityRule(), *quotes, dividends=dividends) == []
    after_expiry = {1: [(date(2026, 12, 21), 2.0)]}
    assert results(PutCallParityRule(), *quotes, dividends=after_expiry) == [WARNING]


def test_parity_needs_a_pair_within_ten_seconds() -> None:
    call, put = pair(10.0, 6.0)
    late_put = replace(put, time=call.time + timedelta(seconds=11))
    assert results(PutCallParityRule(), call, late_put) == []
    assert results(PutCallParityRule(), call, put) == [WARNING]


# the validator and the documented extension API -----------------------------------------


async def test_documented_custom_rule_example_works_as_written() -> None:
    from alc_data import DataValidator, ValidationResult, ValidationRule

    class CustomRule(ValidationRule):
        def __init__(self) -> None:
            super().__init__("custom_rule", "Custom validation", critical=False)

        async def validate(self, snapshot, context=None):  # type: ignore[no-untyped-def]
            return ValidationResult.VALID, "OK"

    validator = DataValidator(None)
    validator.rules.append(CustomRule())
    report = await validator.validate_batch([snap(), snap(time=NOW - timedelta(minutes=59))])
    assert report.total == 2 and report.valid == 2 and report.findings == []


async def test_user_rules_are_adapted_to_batches_and_their_failures_counted() -> None:
    from alc_data import DataValidator, ValidationResult, ValidationRule

    class NoZeroBid(ValidationRule):
        def __init__(self) -> None:
            super().__init__("no_zero_bid", "bids are positive", critical=True)

        async def validate(self, snapshot, context=None):  # type: ignore[no-untyped-def]
            if snapshot.bid_price == 0:
                return ValidationResult.INVALID, "zero bid"
            return ValidationResult.VALID, "OK"

    class Broken(ValidationRule):
        def __init__(self) -> None:
            super().__init__("broken", "raises")

        async def validate(self, snapshot, context=None):  # type: ignore[no-untyped-def]
            raise ZeroDivisionError

    validator = DataValidator(None, rules=[NoZeroBid(), Broken()])
    report = await validator.validate_batch([snap(), snap(contract_id=2, bid_price=0.0)])
    assert report.rule_failures == {"no_zero_bid": 1, "broken": 2}
    assert report.critical_failures == 1
    assert (report.valid, report.warnings, report.invalid) == (0, 1, 1)


async def test_builtin_rules_also_answer_one_snapshot_at_a_time() -> None:
    rule = PriceSanityRule()
    assert await rule.validate(snap()) == (ValidationResult.VALID, "OK")
    result, message = await rule.validate(snap(bid_price=2.0, ask_price=1.0))
    assert result is INVALID and "crossed" in message


async def test_validate_batch_counts_each_tick_once_by_its_worst_verdict() -> None:
    from alc_data import DataValidator

    t0 = NOW - timedelta(hours=1)
    batch = [
        snap(contract_id=1, time=t0),
        snap(contract_id=2, time=t0, bid_price=0.9, ask_price=1.1),  # wide: warning
        snap(contract_id=3, time=t0, bid_price=1.2, ask_price=1.1, delta=2.0),  # 2 invalid
    ]
    report = await DataValidator(None).validate_batch(batch, None)
    stats = report.stats()
    assert stats == {
        "total_validated": 3, "valid": 1, "warnings": 1, "invalid": 1,
        "contract_warnings": 0, "contract_invalid": 0, "contract_rules": [],
        "rule_failures": {"greeks_bounds": 1, "price_sanity": 1, "wide_spread": 1},
    }  # fmt: skip
