"""Hypothesis properties of every built-in rule."""

from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from alc_data.validation import (
    ArbitrageBoundsRule,
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
    default_rules,
)
from alc_data.validation.rules_arbitrage import TOLERANCE, Terms, bounds
from tests.support.validating import NOW, OPEN, context, run, snap, sync

INVALID = ValidationResult.INVALID
FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

any_float = st.one_of(st.none(), st.floats(allow_nan=True, allow_infinity=True))
price = st.floats(min_value=0.01, max_value=5000, allow_nan=False)
session_time = st.integers(min_value=0, max_value=6 * 3600).map(
    lambda s: OPEN + timedelta(seconds=s)
)
any_time = st.one_of(
    st.datetimes(timezones=st.just(UTC)),
    st.datetimes(),  # naive
    st.datetimes(timezones=st.timezones()),
)
NUMERIC = ["bid_price", "ask_price", "last_price", "bid_size", "ask_size", "last_size", "volume",
           "open_interest", "implied_volatility", "delta", "gamma", "theta", "vega", "rho",
           "underlying_price", "strike"]  # fmt: skip


@st.composite
def wild_snapshots(draw: st.DrawFn) -> MarketDataSnapshot:
    values = {name: draw(any_float) for name in NUMERIC}
    return MarketDataSnapshot(
        time=draw(any_time),
        contract_id=draw(st.integers(1, 3)),
        tick_type=draw(st.sampled_from(["REALTIME", "DELAYED", "FROZEN", "SNAPSHOT"])),
        underlying=draw(st.sampled_from([None, "SPY", "AAPL", "SPX"])),
        sec_type=draw(st.sampled_from([None, "STK", "IND"])),
        right=draw(st.sampled_from([None, "C", "P", "X"])),
        expiry=draw(st.one_of(st.none(), st.dates())),
        underlying_id=draw(st.sampled_from([None, 1, 2])),
        **values,
    )


@FAST
@given(st.lists(wild_snapshots(), max_size=6), st.datetimes(timezones=st.just(UTC)))
def test_no_rule_raises_on_any_float_nan_inf_or_none(batch: list, now: datetime) -> None:  # type: ignore[type-arg]
    ctx = context(now=now, as_of=None)
    for rule in default_rules():
        findings = sync(rule.validate_batch(batch, ctx)) + sync(rule.finish(ctx))
        assert all(f.result is not ValidationResult.VALID for f in findings)
        assert all(isinstance(f.message, str) for f in findings)


@FAST
@given(price, st.floats(min_value=1e-9, max_value=100), any_float, any_float)
def test_any_crossed_quote_is_invalid(ask: float, by: float, last: float, volume: float) -> None:
    quote = snap(bid_price=ask + by, ask_price=ask, last_price=last, volume=volume)
    [finding] = run(PriceSanityRule(), quote)
    assert finding.result is INVALID and finding.critical


@FAST
@given(price, st.floats(min_value=0, max_value=100))
def test_locked_or_normal_markets_and_zero_bids_are_never_invalid(bid: float, extra: float) -> None:
    assert run(PriceSanityRule(), snap(bid_price=bid, ask_price=bid + extra)) == []
    assert run(PriceSanityRule(), snap(bid_price=0.0, ask_price=bid)) == []


def _scaled(s: MarketDataSnapshot, k: float) -> MarketDataSnapshot:
    def mul(x: float | None) -> float | None:
        return None if x is None else x * k

    return replace(s, bid_price=mul(s.bid_price), ask_price=mul(s.ask_price),
                   last_price=mul(s.last_price), underlying_price=mul(s.underlying_price),
                   strike=mul(s.strike))  # fmt: skip


quotes = st.builds(
    lambda spot, moneyness, right, bid, width: snap(
        underlying_price=spot, strike=spot * moneyness, right=right,
        delta=0.5 if right == "C" else -0.5, bid_price=bid, ask_price=bid + width,
    ),
    price, st.floats(0.5, 1.5), st.sampled_from(["C", "P"]), st.just(0.0) | st.floats(1e-4, 600),
    st.just(0.0) | st.floats(1e-4, 50),  # no subnormals: scaling them by 2**-k underflows
)  # fmt: skip
scales = st.integers(-8, 8).map(lambda e: 2.0**e)  # exact in binary: no rounding at the edges


@FAST
@given(st.lists(quotes, min_size=1, max_size=4), scales)
def test_scale_free_rules_do_not_change_their_verdict_with_the_price_scale(
    batch: list[MarketDataSnapshot],
    k: float,
) -> None:
    batch = [replace(q, contract_id=i) for i, q in enumerate(batch)]
    scaled = [_scaled(q, k) for q in batch]
    for rule in (PriceSanityRule(), WideSpreadRule(), GreeksBoundsRule(), ArbitrageBoundsRule(),
                 PutCallParityRule()):  # fmt: skip
        before = [(f.contract_id, f.result) for f in run(rule, *batch)]
        after = [(f.contract_id, f.result) for f in run(rule, *scaled)]
        assert before == after, rule.name


@FAST
@given(price, st.floats(0.8, 1.2), st.floats(0, 100), st.floats(0, 100), st.floats(0, 5),
       st.floats(0, 5), price, st.sampled_from(["STK", "IND"]))  # fmt: skip
def test_parity_is_symmetric_in_call_and_put(
    spot: float, m: float, cb: float, pb: float, cw: float, pw: float, spot2: float,
    sec_type: str,
) -> None:  # fmt: skip
    """Whichever leg of a simultaneous pair arrives last, the verdict is the same."""
    t = NOW - timedelta(hours=1)
    common = {"strike": spot * m, "sec_type": sec_type, "time": t,
              "underlying": "SPX" if sec_type == "IND" else "SPY"}  # fmt: skip
    call = snap(contract_id=1, right="C", bid_price=cb, ask_price=cb + cw,
                underlying_price=spot, **common)  # fmt: skip
    put = snap(contract_id=2, right="P", delta=-0.5, bid_price=pb, ask_price=pb + pw,
               underlying_price=spot2, **common)  # fmt: skip
    one = [
        (f.result, f.metric_value, f.threshold_value) for f in run(PutCallParityRule(), call, put)
    ]
    other = [(f.result, f.metric_value, f.threshold_value)
             for f in run(PutCallParityRule(), put, call)]  # fmt: skip
    assert one == other
    assert len(one) <= 1


@FAST
@given(quotes)
def test_bounds_rule_agrees_with_the_bound_formulas(quote: MarketDataSnapshot) -> None:
    ctx = context()
    years = (quote.expiry - (quote.time - timedelta(hours=8)).date()).days / 365.0  # type: ignore[operator]
    assert quote.underlying_price is not None and quote.strike is not None
    terms = Terms(quote.underlying_price, quote.strike, years, ctx.limits.risk_free_rate, 0.0,
                  False)  # fmt: skip
    lower, upper = bounds(quote.right or "C", terms)
    tol = TOLERANCE * terms.spot
    assert quote.bid_price is not None and quote.ask_price is not None
    expected = quote.ask_price < lower - tol or quote.bid_price > upper + tol
    assert bool(run(ArbitrageBoundsRule(), quote, ctx=ctx)) == expected


@FAST
@given(st.floats(-1, 1), st.floats(0, 1e3), st.floats(0, 1e3), st.floats(1e-6, 10),
       st.sampled_from(["C", "P"]))  # fmt: skip
def test_greeks_inside_their_bounds_are_valid(
    delta: float, gamma: float, vega: float, iv: float, right: str
) -> None:
    d = abs(delta) if right == "C" else -abs(delta)
    quote = snap(right=right, delta=d, gamma=gamma, vega=vega, implied_volatility=iv)
    assert run(GreeksBoundsRule(), quote) == []
    if abs(d) > 1e-6:  # the wrong sign is invalid (beyond the float slack)
        assert run(GreeksBoundsRule(), replace(quote, delta=-d)) != []


@FAST
@given(any_time)
def test_naive_times_are_always_invalid_and_aware_session_times_never(t: datetime) -> None:
    verdict = run(TimeConsistencyRule(), snap(time=t), ctx=context(now=datetime.max.replace(
        tzinfo=UTC) - timedelta(days=1)))  # fmt: skip
    if t.tzinfo is None:
        assert [f.result for f in verdict] == [INVALID]
    elif datetime(1970, 1, 2, tzinfo=UTC) <= t <= datetime(2199, 12, 31, tzinfo=UTC):
        # An aware time in the plausible range is at worst outside the session: a warning.
        assert INVALID not in [f.result for f in verdict]


@FAST
@given(session_time)
def test_ticks_inside_the_session_and_not_in_the_future_are_valid(t: datetime) -> None:
    assert run(TimeConsistencyRule(), snap(time=t), ctx=context(now=t)) == []


@FAST
@given(st.lists(st.integers(1, 900), min_size=1, max_size=30), st.integers(60, 600))
def test_gaps_are_exactly_the_in_session_steps_above_the_threshold(steps: list[int],
                                                                   gap: int) -> None:  # fmt: skip
    from alc_data.config import ValidationSettings

    times = [OPEN]
    for step in steps:
        times.append(times[-1] + timedelta(seconds=step))
    batch = [snap(time=t) for t in times]
    found = run(GapRule(), *batch, ctx=context(limits=ValidationSettings(ALC_GAP_SECONDS=gap)))
    close = OPEN + timedelta(hours=6, minutes=45)
    expected = [t for prev, t in itertools.pairwise(times)
                if (t - prev).total_seconds() > gap and t <= close]  # fmt: skip
    assert [f.time for f in found] == expected


@FAST
@given(st.lists(st.integers(0, 1000), min_size=1, max_size=30))
def test_volume_is_flagged_exactly_where_it_falls(volumes: list[int]) -> None:
    batch = [snap(time=OPEN + timedelta(seconds=i), volume=v) for i, v in enumerate(volumes)]
    found = run(VolumeMonotonicRule(), *batch)
    expected = [batch[i + 1].time for i in range(len(volumes) - 1) if volumes[i + 1] < volumes[i]]
    assert [f.time for f in found] == expected


@FAST
@given(st.lists(st.integers(0, 3600), min_size=1, max_size=10), st.integers(30, 900))
def test_staleness_flags_exactly_contracts_idle_longer_than_the_threshold(
    ages: list[int], stale: int
) -> None:
    from alc_data.config import ValidationSettings

    batch = [snap(contract_id=i, time=NOW - timedelta(seconds=a)) for i, a in enumerate(ages)]
    ctx = context(as_of=NOW, limits=ValidationSettings(ALC_STALE_AFTER_SECONDS=stale))
    found = run(StalenessRule(), *batch, ctx=ctx)
    assert sorted(-1 if f.contract_id is None else f.contract_id for f in found) == [
        i for i, a in enumerate(ages) if a >= stale
    ]
