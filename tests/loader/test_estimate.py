"""Before a load: how many contracts, requests, bars and how long; large loads ask first."""

from __future__ import annotations

import argparse
import io
import json
from datetime import date, timedelta

import pytest
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncEngine

from alc_data import HistoricalDataLoader
from alc_data.config import load_settings
from alc_data.db.database import Database
from alc_data.ib.pacing import PacingRules
from alc_data.loader import LoaderConfig, LoadEstimate
from alc_data.loader.cli import Confirmation, register
from alc_data.loader.estimate import estimate
from alc_data.loader.plan import Instrument, RequestSpec, Series
from tests.support.loading import MARCH_13, RULES, SimFactory

pytestmark = pytest.mark.timeout(60)
WEEK = (date(2024, 3, 11), date(2024, 3, 12), date(2024, 3, 13), date(2024, 3, 14),
        date(2024, 3, 15))  # fmt: skip


def _requests(n: int, bar_size: str, days: tuple[date, ...] = WEEK) -> list[RequestSpec]:
    return [RequestSpec(Instrument("option", i, 1000 + i, "SMART", f"O{i}"),
                        Series("BID_ASK", bar_size), days) for i in range(n)]  # fmt: skip


def test_rows_and_time_of_a_plan() -> None:
    soft = estimate("SPY", 10, _requests(10, "1 min"), LoaderConfig())
    assert soft.rows == 10 * 5 * 390 and soft.requests == 10 and not soft.large
    assert soft.seconds == pytest.approx(10 * 1.0 / 8)  # one answer each, 8 at a time

    # 40 requests of 30-second bars weigh 80: one full 10-minute window of waiting.
    hard = estimate("SPY", 40, _requests(40, "30 secs"), LoaderConfig())
    assert hard.rows == 40 * 5 * 780
    assert hard.seconds == pytest.approx(600 + 40 * 1.0)
    scaled = LoaderConfig(pacing=PacingRules(time_scale=0.01))
    assert estimate("SPY", 40, _requests(40, "30 secs"), scaled).seconds == pytest.approx(46)


def test_large_means_over_500_requests_or_a_million_rows() -> None:
    assert not LoadEstimate("SPY", 1, 500, 1_000_000, 1.0).large
    assert LoadEstimate("SPY", 1, 501, 10, 1.0).large
    assert LoadEstimate("SPY", 1, 10, 1_000_001, 1.0).large
    line = LoadEstimate("SPY", 2170, 10_850, 3_385_200, 7300.0, 4).describe()
    assert line == (
        "SPY: 2170 option contracts in the bands, 10,850 history requests, about "
        "3,385,200 bars and 2 h 01 min (4 instrument-days already complete)"
    )


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


LARGE = LoadEstimate("SPY", 2170, 10_850, 3_385_200, 7300.0)
SMALL = LoadEstimate("SPY", 2, 10, 3900, 2.0)


@pytest.mark.parametrize(
    ("answers", "assume_yes", "estimate_", "go", "said"),
    [
        (_Terminal("n\n"), False, LARGE, False, "nothing loaded (pass --yes"),
        (_Terminal("\n"), False, LARGE, False, "Start it? [y/N]"),
        (_Terminal("y\n"), False, LARGE, True, "Start it? [y/N]"),
        (_Terminal(""), True, LARGE, True, "10,850 history requests"),
        (io.StringIO(""), False, LARGE, True, "not on a terminal, so starting it without --yes"),
        (_Terminal(""), False, SMALL, True, "10 history requests"),
    ],
)
def test_confirmation(
    answers: io.StringIO, assume_yes: bool, estimate_: LoadEstimate, go: bool, said: str
) -> None:
    told = io.StringIO()
    confirm = Confirmation(answers, told, assume_yes=assume_yes)
    assert confirm(estimate_) is go
    assert confirm.declined is not go
    assert said in told.getvalue()
    assert told.getvalue().startswith(estimate_.describe())
    if estimate_ is SMALL or assume_yes:
        assert "Start it?" not in told.getvalue()


async def test_the_estimate_comes_first_and_matches_the_load(
    start_sim: SimFactory, db: Database
) -> None:
    _sim, ib = await start_sim(MARCH_13)
    config = LoaderConfig(max_contracts=3, pacing=RULES, volatility_what_to_show=())
    seen: list[LoadEstimate] = []

    def decline(plan: LoadEstimate) -> bool:
        seen.append(plan)
        return False

    start, end = date(2024, 3, 11), date(2024, 3, 13)
    declined = await HistoricalDataLoader(db, ib, config, on_plan=decline).load_symbol_history(
        "SPY", start, end
    )
    assert declined["history_requests"] == 0 and declined["option_bars_loaded"] == 0
    (plan,) = seen
    assert plan.contracts == 3 and plan.requests == 4  # 3 options and the underlying, 3 days
    stats = await HistoricalDataLoader(db, ib, config, on_plan=lambda _: True).load_symbol_history(
        "SPY", start, end
    )
    assert stats["history_requests"] == plan.requests
    assert stats["stock_bars_loaded"] + stats["option_bars_loaded"] == plan.rows  # full sessions


async def test_a_large_load_on_a_terminal_asks_and_loads_nothing_when_declined(
    clean_db: AsyncEngine,
    migrated_url: URL,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """``--max-contracts 0`` (every contract in the bands) of two weeks: thousands of requests."""
    monkeypatch.setenv("ALC_DATABASE_URL", migrated_url.render_as_string(hide_password=False))
    monkeypatch.setattr("sys.stdin", _Terminal("n\n"))
    parser = argparse.ArgumentParser(prog="alc-data")
    register(parser.add_subparsers(dest="command", required=True))
    today = date.today()
    args = parser.parse_args(["load-history", "SPY", "--sim", "--max-contracts", "0", "--json",
                              "--start", str(today - timedelta(days=14)),
                              "--end", str(today - timedelta(days=1))])  # fmt: skip
    import asyncio

    code = await asyncio.to_thread(args.handler, args, load_settings())
    captured = capsys.readouterr()
    assert code == 1
    assert "Start it? [y/N]" in captured.err and "nothing loaded" in captured.err
    stats = json.loads(captured.out.strip().splitlines()[-1])
    assert stats["history_requests"] == 0 and stats["option_bars_loaded"] == 0
