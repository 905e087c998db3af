"""``alc-data load-history ... --sim --json`` twice: the second run asks IB for nothing."""

from __future__ import annotations

import argparse
import io
import json
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncEngine

from alc_data.config import load_settings
from alc_data.loader import STATS_KEYS
from alc_data.loader.cli import ProgressDisplay, register
from alc_data.loader.stats import LoadProgress

pytestmark = pytest.mark.timeout(60)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="alc-data")
    register(parser.add_subparsers(dest="command", required=True))
    return parser


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, dict[str, Any]]:
    args = _parser().parse_args(argv)
    code = args.handler(args, load_settings())
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 1  # exactly one JSON object on stdout
    return code, json.loads(out[0])


async def _counts(engine: AsyncEngine) -> tuple[int, ...]:
    async with engine.connect() as conn:
        row = (await conn.execute(text(
            "SELECT (SELECT count(*) FROM stock_bars), (SELECT count(*) FROM option_bars), "
            "(SELECT count(*) FROM history_requests), "
            "(SELECT max(completed_at) FROM history_requests)"
        ))).one()  # fmt: skip
    return tuple(row)


async def test_load_history_sim_json_twice(
    clean_db: AsyncEngine,
    migrated_url: URL,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("ALC_DATABASE_URL", migrated_url.render_as_string(hide_password=False))
    today = date.today()
    argv = ["load-history", "SPY", "--start", str(today - timedelta(days=7)), "--end",
            str(today - timedelta(days=1)), "--sim", "--json", "--max-contracts", "2"]  # fmt: skip
    import asyncio

    code, first = await asyncio.to_thread(_run, argv, capsys)
    assert code == 0 and tuple(first) == STATS_KEYS
    assert first["errors"] == 0 and first["history_requests"] > 0
    assert first["option_bars_loaded"] > 0
    before = await _counts(clean_db)

    code, second = await asyncio.to_thread(_run, argv, capsys)
    assert code == 0
    assert second["history_requests"] == 0
    assert second["stock_bars_loaded"] == second["option_bars_loaded"] == 0
    assert await _counts(clean_db) == before  # no row added or touched


def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    args = _parser().parse_args(["load-history", "SPY", "--sim"])
    assert args.handler(args, load_settings()) == 2
    args = _parser().parse_args(["load-history", "SPY", "--start", "2024-03-04", "--end",
                                 "2024-03-08", "--what", "GREEKS"])  # fmt: skip
    assert args.handler(args, load_settings()) == 2
    assert "GREEKS" in capsys.readouterr().err


def test_progress_line() -> None:
    line = ProgressDisplay.render(LoadProgress("SPY", 12, 40, 10, 11, 2, 30.0, 90.0))
    assert line.startswith("SPY [########......")
    assert "10/40 requests, 12 contracts, 11 sent, 2 paced, ETA 01:30" in line
    assert "IB errors" not in line
    errors = {"162": 37, "timeout": 1}
    line = ProgressDisplay.render(LoadProgress("SPY", 12, 40, 10, 11, 2, 30.0, 90.0, errors))
    assert line.endswith("ETA 01:30, IB errors 162x37 timeoutx1")


def test_log_lines_go_above_the_bar() -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    screen = Terminal()
    display = ProgressDisplay(screen)
    display(LoadProgress("SPY", 12, 40, 10, 11, 2, 30.0, 90.0))
    display.write_above("WARNING something")
    bar = ProgressDisplay.render(LoadProgress("SPY", 12, 40, 10, 11, 2, 30.0, 90.0))
    *_, last = screen.getvalue().split("\r")
    assert last.startswith("WARNING something\n" + bar)  # the bar is drawn again below it
