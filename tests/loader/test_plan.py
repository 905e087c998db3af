"""The request plan, answer classification and gap audit: pure functions, no I/O."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from alc_data import HistoricalDataLoader
from alc_data.errors import DataError, InvalidArgumentError
from alc_data.ib.history import AnswerKind, HistoryBar, classify
from alc_data.loader import LoaderConfig
from alc_data.loader.gaps import complete_units
from alc_data.loader.plan import (
    Instrument,
    Series,
    closed_trading_days,
    expected_bars,
    plan_requests,
)

pytestmark = pytest.mark.timeout(10)

STOCK = Instrument("stock", 1, 100, "SMART", "SPY")
OPTION = Instrument("option", 7, 700, "SMART", "SPY C", expiry=date(2024, 7, 5))
MINUTE = Series("BID_ASK", "1 min")


def test_closed_trading_days_skip_weekends_holidays_and_open_sessions() -> None:
    now = datetime(2024, 7, 9, 19, 0, tzinfo=UTC)  # 15:00 New York: 07-09 still open
    days = closed_trading_days(date(2024, 6, 28), date(2024, 7, 9), now)
    assert days == [date(2024, 6, 28)] + [date(2024, 7, d) for d in (1, 2, 3, 5, 8)]


def test_expected_bars_follow_early_closes() -> None:
    assert expected_bars(date(2024, 7, 2), "1 min") == 390
    assert expected_bars(date(2024, 7, 3), "1 min") == 210
    assert expected_bars(date(2024, 7, 3), "30 secs") == 420
    assert expected_bars(date(2024, 7, 3), "1 day") == 1
    assert expected_bars(date(2024, 7, 4), "1 min") == 0


def test_plan_groups_missing_consecutive_days_and_stops_options_at_expiry() -> None:
    days = [date(2024, 7, d) for d in (1, 2, 3, 5, 8, 9)]
    complete = {("stock", 1, "BID_ASK", "1 min", date(2024, 7, 3))}
    requests, skipped = plan_requests(
        [STOCK, OPTION], lambda i: [MINUTE], days, complete, lambda s: 2
    )
    spans = sorted((r.instrument.kind, r.days) for r in requests)
    assert spans == [
        ("option", (date(2024, 7, 1), date(2024, 7, 2))),
        ("option", (date(2024, 7, 3), date(2024, 7, 5))),
        ("stock", (date(2024, 7, 1), date(2024, 7, 2))),
        ("stock", (date(2024, 7, 5), date(2024, 7, 8))),
        ("stock", (date(2024, 7, 9),)),
    ]
    assert skipped == 1
    first = requests[0]
    assert first.duration == "2 D"
    assert first.end == datetime(2024, 7, 2, 20, 0, tzinfo=UTC)  # 16:00 EDT
    assert requests[1].pacing_key.weight == 2  # BID_ASK counts twice


@pytest.mark.parametrize(
    ("code", "message", "kind"),
    [
        (162, "Historical Market Data Service error message:HMDS query returned no data: X",
         AnswerKind.EMPTY),
        (162, "Historical Market Data Service error message:Historical data request pacing "
              "violation", AnswerKind.PACING),
        (200, "No security definition has been found for the request", AnswerKind.UNAVAILABLE),
        (354, "Requested market data is not subscribed.", AnswerKind.ERROR),
        (1100, "Connectivity between IB and Trader Workstation has been lost.",
         AnswerKind.TIMEOUT),
    ],
)  # fmt: skip
def test_error_answers_are_classified_by_code(code: int, message: str, kind: AnswerKind) -> None:
    assert classify(code, message, [], timed_out=False).kind is kind


def test_an_answer_without_error_is_bars_empty_or_a_timeout() -> None:
    bar = HistoryBar(datetime(2024, 7, 1, 13, 30, tzinfo=UTC), 1, 2, 0.5, 1.5, None, None, None)
    assert classify(None, "", [bar], timed_out=False).kind is AnswerKind.BARS
    assert classify(None, "", [], timed_out=False).kind is AnswerKind.EMPTY
    assert classify(None, "", [], timed_out=True).kind is AnswerKind.TIMEOUT


def test_gap_audit_compares_stored_bars_with_records_and_the_calendar() -> None:
    day, early = date(2024, 7, 2), date(2024, 7, 3)
    units = [("option", 7, "BID_ASK", "1 min", d) for d in (day, early, date(2024, 7, 5))]
    statuses = {units[0]: ("done", 390), units[2]: ("empty", 0)}
    # 07-02 lost a bar; 07-03 has no record but every bar of its short session; 07-05 is empty
    stored = {(7, "BID_ASK", "1 min", day): 389, (7, "BID_ASK", "1 min", early): 210}
    assert complete_units(units, statuses, stored) == {units[1], units[2]}
    assert complete_units(units, statuses) == {units[0], units[2]}


@pytest.mark.parametrize(
    "bad",
    [
        {"bar_size": "bogus"},
        {"bar_size": "0 mins"},
        {"volatility_bar_size": "1 fortnight"},
        {"max_contracts": 0},
        {"max_contracts": -5},
        {"max_contracts": 2.5},
        {"expiry_range_days": -1},
        {"strike_range_percent": float("nan")},
        {"strike_range_percent": -0.1},
        {"request_timeout": 0},
        {"request_timeout": float("inf")},
        {"backoff": float("nan")},
        {"option_what_to_show": ("GREEKS",)},
        {"concurrency": 0},
    ],
)
def test_bad_loader_settings_are_typed_errors(bad: dict[str, object]) -> None:
    with pytest.raises(InvalidArgumentError, match="LoaderConfig"):
        LoaderConfig(**bad)  # type: ignore[arg-type]


def test_good_loader_settings_pass() -> None:
    config = LoaderConfig(bar_size="30 secs", max_contracts=1, strike_range_percent=0.05,
                          expiry_range_days=0, backoff=0.0)  # fmt: skip
    assert config.max_contracts == 1


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (("", date(2024, 3, 4), date(2024, 3, 8)), DataError),
        ((None, date(2024, 3, 4), date(2024, 3, 8)), DataError),
        (("SPY", "2024-03-04", date(2024, 3, 8)), DataError),
        (("SPY", datetime(2024, 3, 4, tzinfo=UTC), date(2024, 3, 8)), DataError),
        (("SPY", date(2024, 3, 8), date(2024, 3, 4)), DataError),
        (("SPY", date(9999, 1, 1), date(9999, 1, 2)), InvalidArgumentError),
        (("SPY", date(1980, 1, 1), date(1980, 1, 2)), InvalidArgumentError),
    ],
)
async def test_bad_load_arguments_are_typed_errors_before_any_io(
    args: tuple[object, object, object], error: type[Exception]
) -> None:
    """Checked before IB or the database is touched (neither exists here)."""
    loader = HistoricalDataLoader("postgresql://nobody@127.0.0.1:1/none", None)  # type: ignore[arg-type]
    with pytest.raises(error):
        await loader.load_symbol_history(*args)  # type: ignore[arg-type]
    for days_back in (-1, 1.5, 10**6):
        with pytest.raises(DataError, match="days_back"):
            await loader.backfill_gaps("SPY", days_back=days_back)  # type: ignore[arg-type]
