"""``alc-data collect ... --sim --json`` (the command registered by alc_data.collector.cli)."""

from __future__ import annotations

import argparse
import json

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncEngine

from alc_data.collector.cli import parse_duration, register
from alc_data.config import load_settings


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="alc-data")
    register(parser.add_subparsers())
    return parser


@pytest.mark.timeout(60)
def test_collect_sim_json_stores_what_it_reports(
    clean_db: AsyncEngine,
    migrated_url: URL,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: object,
) -> None:
    monkeypatch.setenv("ALC_DATABASE_URL", migrated_url.render_as_string(hide_password=False))
    monkeypatch.setenv("ALC_DATA_DIR", str(tmp_path))
    args = _parser().parse_args(
        ["collect", "spy", "--sim", "--duration", "2s", "--max-contracts", "8", "--json",
         "--client-id", "77"]
    )  # fmt: skip
    assert args.handler(args, load_settings()) == 0
    out, err = capsys.readouterr()
    stats = json.loads(out)  # exactly one JSON object on stdout
    assert "rows" in err  # the live status line went to stderr
    # Said once streaming starts: what the bands mean (8 contracts on the default 100 lines)
    assert "collecting 8 option contracts in the bands (SPY 8) on 100 market-data lines" in err
    assert stats["active_contracts"] == 8 and stats["collection_active"] is False
    engine = create_engine(migrated_url.set(drivername="postgresql+psycopg"))
    with engine.connect() as conn:
        ticks = conn.scalar(text("SELECT count(*) FROM market_data_ticks"))
        stock = conn.scalar(text("SELECT count(*) FROM stock_data_ticks"))
    engine.dispose()
    assert stats["ticks_inserted"] == stats["ticks_collected"] == ticks + stock > 0


@pytest.mark.parametrize(("text_", "seconds"), [("90", 90), ("30s", 30), ("10m", 600),
                                                ("1.5h", 5400)])  # fmt: skip
def test_durations(text_: str, seconds: float) -> None:
    assert parse_duration(text_) == seconds


def test_bad_arguments_are_usage_errors() -> None:
    with pytest.raises(SystemExit):
        _parser().parse_args(["collect", "SPY", "--duration", "soon"])
    with pytest.raises(SystemExit):
        _parser().parse_args(["collect", "SPY", "--sim", "--ib", "host:1"])
