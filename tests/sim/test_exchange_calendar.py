"""The NYSE calendar: holidays, observance rules, early closes, session times."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from alc_data import exchange_calendar as cal


@pytest.mark.parametrize(
    ("year", "expected"),
    [
        (
            2024,
            {
                date(2024, 1, 1),
                date(2024, 1, 15),
                date(2024, 2, 19),
                date(2024, 3, 29),
                date(2024, 5, 27),
                date(2024, 6, 19),
                date(2024, 7, 4),
                date(2024, 9, 2),
                date(2024, 11, 28),
                date(2024, 12, 25),
            },
        ),
        (
            2025,
            {
                date(2025, 1, 1),
                date(2025, 1, 9),
                date(2025, 1, 20),
                date(2025, 2, 17),
                date(2025, 4, 18),
                date(2025, 5, 26),
                date(2025, 6, 19),
                date(2025, 7, 4),
                date(2025, 9, 1),
                date(2025, 11, 27),
                date(2025, 12, 25),
            },
        ),
        (
            2026,
            {
                date(2026, 1, 1),
                date(2026, 1, 19),
                date(2026, 2, 16),
                date(2026, 4, 3),
                date(2026, 5, 25),
                date(2026, 6, 19),
                date(2026, 7, 3),
                date(2026, 9, 7),
                date(2026, 11, 26),
                date(2026, 12, 25),
            },
        ),
    ],
)
def test_holidays_match_nyse(year: int, expected: set[date]) -> None:
    assert cal.holidays(year) == expected


def test_observance_rules() -> None:
    assert date(2022, 6, 20) in cal.holidays(2022)  # Juneteenth on a Sunday -> Monday
    assert not any(d.month == 6 and d.day >= 18 for d in cal.holidays(2021))  # before 2022
    assert cal.is_trading_day(date(2021, 12, 31))  # Saturday New Year's Day not observed
    assert date(2022, 12, 26) in cal.holidays(2022)  # Christmas on a Sunday -> Monday
    assert date(2027, 12, 24) in cal.holidays(2027)  # Christmas on a Saturday -> Friday


def test_early_closes() -> None:
    assert cal.early_closes(2024) == {date(2024, 7, 3), date(2024, 11, 29), date(2024, 12, 24)}
    assert cal.early_closes(2026) == {date(2026, 11, 27), date(2026, 12, 24)}
    hours = cal.session(date(2024, 11, 29))
    assert hours == (
        datetime(2024, 11, 29, 14, 30, tzinfo=UTC),
        datetime(2024, 11, 29, 18, 0, tzinfo=UTC),
    )


def test_sessions_follow_daylight_saving() -> None:
    assert cal.session(date(2024, 1, 2)) == (
        datetime(2024, 1, 2, 14, 30, tzinfo=UTC),
        datetime(2024, 1, 2, 21, 0, tzinfo=UTC),
    )
    assert cal.session(date(2024, 3, 11)) == (
        datetime(2024, 3, 11, 13, 30, tzinfo=UTC),
        datetime(2024, 3, 11, 20, 0, tzinfo=UTC),
    )
    assert cal.session(date(2024, 3, 29)) is None
    assert cal.session(date(2024, 3, 30)) is None


def test_trading_days_and_neighbours() -> None:
    assert len(cal.trading_days(date(2024, 1, 1), date(2024, 12, 31))) == 252
    assert len(cal.trading_days(date(2023, 1, 1), date(2023, 12, 31))) == 250
    assert cal.next_trading_day(date(2024, 3, 28)) == date(2024, 4, 1)
    assert cal.previous_trading_day(date(2024, 7, 5)) == date(2024, 7, 3)


def test_is_open() -> None:
    assert cal.is_open(datetime(2024, 7, 3, 16, 59, tzinfo=UTC))
    assert not cal.is_open(datetime(2024, 7, 3, 17, 0, tzinfo=UTC))
    with pytest.raises(ValueError):
        cal.is_open(datetime(2024, 7, 3, 12, 0))
