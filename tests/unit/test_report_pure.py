"""The report's pure parts: buckets, gaps from sessions and windows, figures from sections."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime, timedelta

import pytest

from alc_data.errors import ConfigError, NaiveDatetimeError
from alc_data.report import figures
from alc_data.report.market_sql import uncovered
from alc_data.report.output import parse_instant
from alc_data.report.volatility_sql import term_structure
from alc_data.report.window import ReportWindow, nice_bucket

T0 = datetime(2026, 11, 17, 14, 30, tzinfo=UTC)


def _t(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def test_buckets_grow_with_the_window() -> None:
    assert nice_bucket(timedelta(hours=1), 200) == timedelta(minutes=1)
    assert nice_bucket(timedelta(hours=8), 200) == timedelta(minutes=5)
    assert nice_bucket(timedelta(days=7), 200) == timedelta(hours=1)
    assert nice_bucket(timedelta(days=7), 1000) == timedelta(minutes=15)
    assert nice_bucket(timedelta(days=400), 200) == timedelta(days=1)


def test_window_refuses_naive_and_empty_bounds() -> None:
    with pytest.raises(NaiveDatetimeError):
        ReportWindow(datetime(2026, 1, 1), datetime(2026, 1, 2))
    with pytest.raises(ConfigError, match="is not before"):
        ReportWindow(_t(10), _t(0))


def test_parse_instant_dates_times_and_bad_input() -> None:
    assert parse_instant("2026-11-17") == datetime(2026, 11, 17, tzinfo=UTC)
    assert parse_instant("2026-11-17T14:30") == T0
    assert parse_instant("2026-11-17T09:30-05:00") == T0
    with pytest.raises(argparse.ArgumentTypeError, match="not an ISO date"):
        parse_instant("yesterday")


def test_gaps_are_the_session_less_what_was_collected() -> None:
    session = [(_t(0), _t(390))]
    covered = [(_t(0), _t(10)), (_t(12), _t(30)), (_t(100), _t(400))]
    longer = timedelta(seconds=300)
    # 10-12 is 2 minutes (not a gap), 30-100 is one; the window clips nothing here.
    assert uncovered(session, covered, _t(-60), _t(500), longer) == [(_t(30), _t(100))]
    # Clipped to the window: only the part inside counts.
    assert uncovered(session, [], _t(60), _t(120), longer) == [(_t(60), _t(120))]
    assert uncovered(session, [(_t(0), _t(390))], _t(-60), _t(500), longer) == []
    assert uncovered([], [], _t(0), _t(10), longer) == []


def test_term_structure_takes_the_strike_nearest_the_underlying() -> None:
    at = T0.isoformat()
    smile = [
        {"at": at, "expiry": "2026-11-20", "strike": k, "right": r, "iv": iv,
         "underlying_price": 102.6}
        for k, r, iv in ((100, "C", 0.3), (105, "C", 0.2), (105, "P", 0.4))
    ]  # fmt: skip
    (row,) = term_structure(smile)
    assert (row["strike"], row["days"]) == (105, 3)
    assert row["atm_iv"] == pytest.approx(0.3)


def test_figures_carry_the_sections_data() -> None:
    rows = [
        {"expiry": "2026-11-20", "strike": k, "bucket": b, "share": s, "quoted": 0, "sampled": 1}
        for k, b, s in ((100.0, "2026-11-17T14:30:00+00:00", 1.0),
                        (105.0, "2026-11-17T14:30:00+00:00", 0.5),
                        (105.0, "2026-11-17T14:35:00+00:00", 0.25))
    ]  # fmt: skip
    fig = figures.coverage_figure({"rows": rows, "bucket_minutes": 5})
    assert fig is not None
    (heat,) = fig.data
    assert list(heat.y) == ["100", "105"]
    assert [list(z) for z in heat.z] == [[1.0, None], [0.5, 0.25]]
    bars = figures.history_figure(
        {"rows": [{"trading_day": "2026-11-17", "status": s, "requests": n}
                  for s, n in (("done", 5), ("empty", 1))]}
    )  # fmt: skip
    assert bars is not None
    assert {t.name: list(t.y) for t in bars.data} == {"done": [5], "empty": [1]}


def test_empty_sections_draw_no_figure() -> None:
    assert figures.coverage_figure({"rows": [], "bucket_minutes": 5}) is None
    assert figures.smile_figure({"smile": [], "term": []}) is None
    assert figures.term_figure({"smile": [], "term": []}) is None
    assert figures.spread_figure({"rows": []}) is None
    assert figures.price_figure({"path": [], "windows": [], "gaps": []}) is None
    assert figures.findings_figure({"rows": []}) is None
    assert figures.scans_figure({"by_day": []}) is None


def test_the_price_line_breaks_across_pauses() -> None:
    points: list[tuple[str, float | None]] = [
        (_t(m).isoformat(), 100.0 + m) for m in (0, 1, 2, 60, 61)
    ]
    xs, ys = figures.broken_line(points, timedelta(minutes=2))
    assert ys == [100.0, 101.0, 102.0, None, 160.0, 161.0]
    assert xs[3] is None and xs[4] == _t(60).isoformat()
    assert figures.broken_line(points[:3], timedelta(minutes=2))[1] == [100.0, 101.0, 102.0]
