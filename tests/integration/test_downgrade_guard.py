"""A downgrade that would delete stored rows refuses unless asked, naming what it would
delete; asked, it also empties the loader's progress that would describe deleted bars."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL

from alc_data.cli import main
from alc_data.config import with_driver
from alc_data.db import migrate
from alc_data.errors import DataLossRefusedError

ROOT = Path(__file__).resolve().parents[2]
HEAD = migrate.heads()[0]


def _fill(url: URL) -> None:
    engine = create_engine(with_driver(url, "psycopg"), isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        uid = conn.scalar(
            text("INSERT INTO underlying_securities (symbol) VALUES ('SPY') RETURNING id")
        )
        cid = conn.scalar(
            text(
                "INSERT INTO option_chains (underlying_id, expiration_date, strike_price, "
                "option_type, trading_class) VALUES (:u, '2030-01-18', 100, 'C', 'SPY') "
                "RETURNING id"
            ),
            {"u": uid},
        )
        conn.execute(
            text("SELECT create_partition_range('market_data_ticks', '2026-11-20', '2026-11-20')")
        )
        conn.execute(
            text("SELECT create_partition_range('option_bars', '2026-11-20', '2026-11-20')")
        )
        conn.execute(
            text(
                "INSERT INTO market_data_ticks (contract_id, time, bid_price, ask_price) "
                "SELECT :c, '2026-11-20 15:00+00'::timestamptz + g * interval '1 s', 1, 1.1 "
                "FROM generate_series(1, 7) g"
            ),
            {"c": cid},
        )
        conn.execute(
            text(
                "INSERT INTO option_bars (contract_id, what_to_show, bar_size, time, close) "
                "VALUES (:c, 'BID_ASK', '1 min', '2026-11-20 15:00+00', 1.05)"
            ),
            {"c": cid},
        )
        conn.execute(
            text(
                "INSERT INTO history_requests (instrument_kind, instrument_id, what_to_show, "
                "bar_size, trading_day, status) VALUES ('option', :c, 'BID_ASK', '1 min', "
                "'2026-11-20', 'done')"
            ),
            {"c": cid},
        )
    engine.dispose()


def _count(url: URL, table: str) -> int:
    engine = create_engine(with_driver(url, "psycopg"))
    with engine.connect() as conn:
        n = int(conn.scalar(text(f"SELECT count(*) FROM {table}")) or 0)
    engine.dispose()
    return n


@pytest.fixture
def filled(database_factory: Callable[[], URL]) -> URL:
    url = database_factory()
    migrate.upgrade(url, "head")
    _fill(url)
    return url


def test_a_downgrade_that_deletes_rows_is_refused_and_changes_nothing(filled: URL) -> None:
    with pytest.raises(DataLossRefusedError) as refused:
        migrate.downgrade(filled, "0002")
    message = str(refused.value)
    assert "market_data_ticks (7 rows)" in message and "option_bars (1 rows)" in message
    assert "--drop-data" in message and "\n" not in message
    assert migrate.database_revision(filled) == HEAD
    assert _count(filled, "market_data_ticks") == 7


def test_asked_it_drops_and_forgets_the_loaders_progress(filled: URL) -> None:
    migrate.downgrade(filled, "0002", drop_data=True)
    assert migrate.database_revision(filled) == "0002"
    assert _count(filled, "history_requests") == 0  # would claim bars that are gone
    assert _count(filled, "option_chains") == 1  # what the downgrade keeps stays
    migrate.upgrade(filled, "head")


def test_a_downgrade_that_deletes_nothing_needs_no_flag(
    database_factory: Callable[[], URL],
) -> None:
    url = database_factory()
    migrate.upgrade(url, "head")
    migrate.downgrade(url, "base")  # empty tables: nothing is lost
    assert migrate.database_revision(url) is None


def test_the_commands_refuse_and_obey(
    filled: URL, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ALC_DATABASE_URL", filled.render_as_string(hide_password=False))
    assert main(["db", "downgrade", "0002"]) == 1
    err = capsys.readouterr().err
    assert "DataLossRefusedError" in err and "market_data_ticks (7 rows)" in err
    assert len(err.strip().splitlines()) == 1
    cli = [
        sys.executable,
        "-m",
        "alembic",
        "-x",
        f"url={filled.render_as_string(hide_password=False)}",
    ]
    refused = subprocess.run([*cli, "downgrade", "0002"], cwd=ROOT, capture_output=True, text=True)
    assert refused.returncode != 0 and "would delete" in refused.stdout + refused.stderr
    assert migrate.database_revision(filled) == HEAD
    obeyed = subprocess.run([*cli, "-x", "drop_data=true", "downgrade", "0002"], cwd=ROOT,
                            capture_output=True, text=True)  # fmt: skip
    assert obeyed.returncode == 0, obeyed.stderr
    assert migrate.database_revision(filled) == "0002" and _count(filled, "history_requests") == 0
