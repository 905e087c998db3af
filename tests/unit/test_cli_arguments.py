"""Hostile command-line arguments: a one-line error and exit 2, never a traceback.

Each of these once ended in a traceback, ran for minutes, or was silently accepted (issue 14).
Nothing here reaches a database or a gateway: every one is refused while parsing.
"""

from __future__ import annotations

from datetime import date

import pytest

from alc_data.arguments import check_date, check_window_hours
from alc_data.bar_sizes import IB_BAR_SIZES, ib_bar_size
from alc_data.cli import main
from alc_data.errors import ConfigError, InvalidArgumentError

LOAD = ["load-history", "SPY", "--sim"]
WEEK = ["--start", "2024-03-04", "--end", "2024-03-08"]

HOSTILE = [
    (["report", "--hours", "nan"], "finite"),
    (["report", "--hours", "inf"], "finite"),
    (["report", "--hours", "-1"], "> 0"),
    (["report", "--hours", "0"], "> 0"),
    (["validate", "--hours", "1e12"], "ten years"),
    (["validate", "--hours", "abc"], "not a number"),
    (["validate", "--symbol", ""], "not a symbol"),
    (["collect", "SPY", "--max-lines", "0"], ">= 1"),
    (["collect", "SPY", "--max-contracts", "-5"], ">= 0"),
    (["collect", "SPY", "--duration", "0"], "not a duration"),
    (["collect", "SPY", "--duration", "5000000d"], "ten years"),
    (["collect", "  ", "--sim"], "not a symbol"),
    (["demo", "--days", "-1"], "1..3653"),
    (["demo", "--days", "0"], "1..3653"),
    (["demo", "--collect-seconds", "nan"], "finite"),
    (["db", "maintain", "--ahead-days", "-1"], ">= 0"),
    (["db", "maintain", "--refresh-hours", "-2"], "> 0"),
    ([*LOAD, *WEEK, "--max-contracts", "-5"], ">= 0"),
    ([*LOAD, *WEEK, "--bar-size", "bogus"], "unknown bar size"),
    ([*LOAD, *WEEK, "--bar-size", "0 mins"], "unknown bar size"),
    ([*LOAD, "--start", "9999-01-01", "--end", "9999-01-02"], "five years ahead"),
    ([*LOAD, "--start", "1989-12-29", "--end", "1990-01-05"], "1990"),
    ([*LOAD, "--start", "2024-13-01", "--end", "2024-03-08"], "not a date"),
    ([*LOAD, "--daily", "--days-back", "0"], "1..3653"),
    (["load-history", "SPY", *WEEK, "--ib", "127.0.0.1:70000"], "HOST:PORT"),
    (["load-history", "", *WEEK, "--sim"], "not a symbol"),
    (["load-history", "SPY", *WEEK, "--sim", "--pacing-time-scale", "nan"], "pacing-time-scale"),
    (["sim", "serve", "--port", "70000"], "65535"),
    # Usage errors found after parsing, still before any connection:
    ([*LOAD, "--start", "2024-03-08", "--end", "2024-03-04"], "before the start"),
    ([*LOAD, "--start", "2024-03-09", "--end", "2024-03-10"], "no trading day"),
    ([*LOAD, "--start", "2024-12-25", "--end", "2024-12-25"], "no trading day"),
]


@pytest.mark.parametrize(("argv", "said"), HOSTILE, ids=[" ".join(a) for a, _ in HOSTILE])
def test_hostile_argument_is_one_line_and_exit_2(
    argv: list[str], said: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code: str | int | None
    try:
        code = main(argv)
    except SystemExit as exc:
        code = exc.code
    err = capsys.readouterr().err
    assert code == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1, lines
    assert said in lines[0] and "Traceback" not in err


def test_a_valid_argument_passes_the_same_checks() -> None:
    """Positive control: the checks accept what IB and a trader mean."""
    assert ib_bar_size("1 MIN") == "1 min" and ib_bar_size("30 secs") == "30 secs"
    assert ib_bar_size(" 1   hour ") == "1 hour" and ib_bar_size("5 min") == "5 mins"
    assert all(ib_bar_size(size) == size for size in IB_BAR_SIZES)
    assert check_window_hours(168) == 168 and check_window_hours(0.5) == 0.5
    assert check_date(date(2024, 3, 4), today=date(2026, 12, 1)) == date(2024, 3, 4)


@pytest.mark.parametrize("hours", [float("nan"), float("inf"), -1, 0, 1e12, "24", True])
def test_window_hours_from_python_are_typed_errors(hours: object) -> None:
    with pytest.raises(InvalidArgumentError):
        check_window_hours(hours)  # type: ignore[arg-type]


def test_a_database_url_with_a_bad_port_is_a_configuration_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from alc_data.config import load_settings

    for port in ("70000", "0", "abc"):
        monkeypatch.setenv("ALC_DATABASE_URL", f"postgresql://u@127.0.0.1:{port}/x")
        with pytest.raises(ConfigError, match="ALC_DATABASE_URL"):
            load_settings()
        assert main(["stats"]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and "ALC_DATABASE_URL" in err[0]
    monkeypatch.setenv("ALC_DATABASE_URL", "postgresql://u@127.0.0.1:5432/x")  # control
    assert load_settings().database.url is not None
