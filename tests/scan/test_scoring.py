"""Scoring findings against a planted set: matching by legs and time, the minimum-edge
margins, implied siblings, edge error and latency."""

from __future__ import annotations

from datetime import timedelta

from alc_data.scan import FeeModel, ScanConfig, Scanner, score
from tests.support.scanning import AS_OF, NEAR, chain, quote, stock

CONFIG = ScanConfig(fees=FeeModel(per_contract=0.65, per_share=0.005))


def _conversion(at: timedelta = timedelta(0)):  # type: ignore[no-untyped-def]
    quotes = [quote(NEAR, 100, "C", 2.50, 2.52, contract_id=1),
              quote(NEAR, 100, "P", 2.40, 2.42, contract_id=2)]  # fmt: skip
    found = Scanner(CONFIG).scan(chain(quotes, stock(100.00, 100.02), AS_OF + at))
    assert len(found) == 1
    return found[0]


def _entry(edge: float, *, con_ids: tuple[int, int] = (1_000_001, 1_000_002),
           start: timedelta = timedelta(0), implied_by: str | None = None,
           ident: str = "conv") -> dict[str, object]:  # fmt: skip
    return {
        "id": ident, "kind": "conversion", "edge": edge, "implied_by": implied_by,
        "start": (AS_OF + start).isoformat(), "end": (AS_OF + start + timedelta(60)).isoformat(),
        "legs": [{"con_id": con_ids[0], "side": "SELL", "right": "C"},
                 {"con_id": con_ids[1], "side": "BUY", "right": "P"},
                 {"con_id": 756733, "side": "BUY", "right": "STK"}],
    }  # fmt: skip


def test_a_matching_finding_scores_perfect_with_its_edge_error_and_latency() -> None:
    f = _conversion()
    result = score([f], [_entry(1.77, start=timedelta(seconds=-2))], min_edge=1.0)
    k = result.kinds["conversion"]
    assert result.perfect and k.recall == 1.0 and k.precision == 1.0
    assert abs(k.edge_errors[0] - (f.edge - 1.77)) < 1e-12 and abs(k.edge_errors[0]) < 0.01
    assert k.latencies == [2.0]


def test_other_legs_or_another_time_do_not_match() -> None:
    f = _conversion()
    wrong_legs = score([f], [_entry(1.77, con_ids=(1_000_001, 1_000_009))], min_edge=1.0)
    assert wrong_legs.kinds["conversion"].recall == 0.0
    assert wrong_legs.kinds["conversion"].precision == 0.0
    later = score([f], [_entry(1.77, start=timedelta(seconds=5))], min_edge=1.0)
    assert later.kinds["conversion"].missed == ["conv"] and not later.perfect


def test_margins_around_the_minimum_edge() -> None:
    f = _conversion()
    # at least min + 0.01: must be found (found here)
    assert score([f], [_entry(1.77)], min_edge=1.76).kinds["conversion"].expected == 1
    # at least 0.01 below the minimum: must not be found (found here: a failure)
    below = score([f], [_entry(1.77)], min_edge=1.78)
    assert below.kinds["conversion"].found_below == ["conv"] and not below.perfect
    assert score([], [_entry(1.77)], min_edge=1.78).perfect  # and not found: fine


def test_implied_siblings_make_true_findings_but_no_targets() -> None:
    f = _conversion()
    result = score([f], [_entry(1.77, implied_by="box")], min_edge=1.0)
    k = result.kinds["conversion"]
    assert k.precision == 1.0 and k.expected == 0 and result.perfect
    assert score([], [_entry(1.77, implied_by="box")], min_edge=1.0).perfect
