"""PacingRules / PacingTracker: IB's historical-data limits, with a compressed time scale."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alc_data.ib.pacing import HistoricalRequestKey, PacingRules, PacingTracker, bar_size_seconds

pytestmark = pytest.mark.timeout(30)


def key(
    n: int = 0, what: str = "TRADES", contract: str = "1", bar: str = "30 secs"
) -> HistoricalRequestKey:
    return HistoricalRequestKey(contract, "SMART", what, bar, "1800 S", f"end{n}")


def test_bar_sizes() -> None:
    assert bar_size_seconds("30 secs") == 30
    assert bar_size_seconds("1 min") == 60
    assert bar_size_seconds("1 day") == 86_400
    with pytest.raises(ValueError):
        bar_size_seconds("7 fortnights")


def test_identical_request_within_15_seconds() -> None:
    tracker = PacingTracker(PacingRules())
    tracker.record(key(1), 0.0)
    assert tracker.violation(key(1), 14.9) is not None
    assert tracker.violation(key(1), 15.1) is None
    assert tracker.wait_time(key(1), 10.0) == pytest.approx(5.0, abs=1e-3)


def test_sixth_request_for_same_contract_within_2_seconds() -> None:
    tracker = PacingTracker(PacingRules())
    for i in range(5):
        assert tracker.violation(key(i), i * 0.1) is None
        tracker.record(key(i), i * 0.1)
    assert "same contract" in (tracker.violation(key(9), 0.5) or "")
    assert tracker.violation(key(9, contract="2"), 0.5) is None
    assert tracker.violation(key(9), 2.01) is None


def test_bid_ask_counts_twice() -> None:
    tracker = PacingTracker(PacingRules())
    for i in range(2):
        tracker.record(key(i, "BID_ASK"), 0.0)
    assert tracker.violation(key(5, "BID_ASK"), 0.1) is not None
    assert tracker.violation(key(5, "TRADES"), 0.1) is None


def test_sixty_per_ten_minutes_scaled() -> None:
    rules = PacingRules(time_scale=0.001)  # 10 minutes -> 0.6 s
    tracker = PacingTracker(rules)
    for i in range(60):
        tracker.record(key(i, contract=str(i)), i * 0.001)
    assert "60 requests" in (tracker.violation(key(99, contract="x"), 0.1) or "")
    wait = tracker.wait_time(key(99, contract="x"), 0.1)
    assert 0.49 < wait < 0.51
    assert tracker.violation(key(99, contract="x"), 0.1 + wait) is None


def test_large_bars_only_limited_by_open_requests() -> None:
    tracker = PacingTracker(PacingRules(max_open=2))
    for i in range(100):
        tracker.record(key(1, bar="1 min"), i * 0.001)
    assert tracker.violation(key(1, bar="1 min"), 0.2) is None
    tracker.opened()
    tracker.opened()
    assert tracker.violation(key(1, bar="1 min"), 0.2) is not None
    assert tracker.wait_time(key(1, bar="1 min"), 0.2) == float("inf")
    tracker.closed()
    assert tracker.wait_time(key(1, bar="1 min"), 0.2) == 0.0


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 3), st.sampled_from(["TRADES", "BID_ASK"]), st.floats(0, 3)),
        min_size=1,
        max_size=40,
    )
)
def test_waiting_as_told_never_violates(plan: list[tuple[int, str, float]]) -> None:
    """A client that sleeps wait_time() before each request never breaks a rule."""
    tracker = PacingTracker(PacingRules(time_scale=0.01))
    now = 0.0
    for i, (contract, what, gap) in enumerate(plan):
        now += gap * 0.01
        request = key(i % 3, what, str(contract))
        now += tracker.wait_time(request, now)
        assert tracker.violation(request, now) is None
        tracker.record(request, now)
