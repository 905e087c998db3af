"""Revision 0006 (provenance) on a database that already holds data (plain PostgreSQL):
every row survives the upgrade with the ``legacy`` source, the downgrade keeps every row that
fits the old keys, refuses (saying how many) when a second source's rows would collide, and
the upgrade runs again; after the upgrade a raw ``INSERT`` of today's ticks works."""

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
from tests.support.source_migration_data import (
    TICK_DAYS,
    add_second_source_copy,
    fill_at_0004,
    snapshot,
    sources_by_table,
)

ROOT = Path(__file__).resolve().parents[2]


def _sync(url: URL):  # type: ignore[no-untyped-def]
    return create_engine(with_driver(url, "psycopg"), isolation_level="AUTOCOMMIT")


def test_upgrade_keeps_every_row_with_the_legacy_source_and_downgrades_back(
    database_factory: Callable[[], URL],
) -> None:
    url = database_factory()
    migrate.upgrade(url, "0004", backend="postgres")
    engine = _sync(url)
    with engine.connect() as conn:
        fill_at_0004(conn)
        before = snapshot(conn)
        partitions = conn.scalar(text("SELECT count(*) FROM partition_info"))
    assert partitions == 2 * 3 + 2 * 2 and all(before.values())  # positive control: real rows

    migrate.upgrade(url, "head")
    with engine.connect() as conn:
        assert snapshot(conn) == before  # every row, every value
        by_source = sources_by_table(conn)
        assert by_source == {t: {"legacy": len(rows)} for t, rows in before.items()}
    assert migrate.check(url) is None

    migrate.downgrade(url, "0004")  # nothing collides: no --drop-data needed
    with engine.connect() as conn:
        assert snapshot(conn) == before
    migrate.upgrade(url, "head")
    with engine.connect() as conn:
        assert snapshot(conn) == before
    engine.dispose()


def test_downgrade_refuses_when_two_sources_hold_the_same_key(
    database_factory: Callable[[], URL],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    url = database_factory()
    migrate.upgrade(url, "0004", backend="postgres")
    engine = _sync(url)
    with engine.connect() as conn:
        fill_at_0004(conn)
        before = snapshot(conn)
    migrate.upgrade(url, "head")
    with engine.connect() as conn:
        copied = add_second_source_copy(conn)
    assert copied == 40

    with pytest.raises(DataLossRefusedError, match=r"market_data_ticks .*40 rows"):
        migrate.downgrade(url, "0004")
    monkeypatch.setenv("ALC_DATABASE_URL", url.render_as_string(hide_password=False))
    assert main(["db", "downgrade", "0004"]) == 1
    err = capsys.readouterr().err
    assert "40 rows" in err and "--drop-data" in err and len(err.strip().splitlines()) == 1
    with engine.connect() as conn:  # refused: still at head, all rows there
        assert conn.scalar(text("SELECT count(*) FROM market_data_ticks")) == 3 * 40 + 40

    cli = [
        sys.executable,
        "-m",
        "alembic",
        "-x",
        f"url={url.render_as_string(hide_password=False)}",
    ]
    refused = subprocess.run([*cli, "downgrade", "0004"], cwd=ROOT, capture_output=True, text=True)
    assert refused.returncode != 0 and "40 rows" in refused.stdout + refused.stderr
    assert migrate.database_revision(url) == migrate.heads()[0]

    assert main(["db", "downgrade", "0004", "--drop-data"]) == 0
    with engine.connect() as conn:
        assert snapshot(conn) == before  # the lowest source (legacy) kept for each key
    migrate.upgrade(url, "head")
    with engine.connect() as conn:
        add_second_source_copy(conn)
    obeyed = subprocess.run(
        [*cli, "-x", "drop_data=true", "downgrade", "0004"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert obeyed.returncode == 0, obeyed.stderr
    with engine.connect() as conn:
        assert snapshot(conn) == before
    migrate.upgrade(url, "head")
    engine.dispose()


def test_raw_insert_for_today_works_right_after_upgrade_and_maintain(
    database_factory: Callable[[], URL], monkeypatch: pytest.MonkeyPatch
) -> None:
    url = database_factory()
    migrate.upgrade(url, "head", backend="postgres")
    engine = _sync(url)
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
        # The user's own SQL, as the original documentation writes it: no source named.
        for at in ("now()", "now() - interval '1 day'", "now() + interval '7 days'"):
            conn.execute(
                text(
                    "INSERT INTO market_data_ticks (time, contract_id, bid_price, ask_price) "
                    f"VALUES ({at}, :c, 1.0, 1.1)"
                ),
                {"c": cid},
            )
        assert (
            conn.scalar(
                text(
                    "SELECT s.name FROM market_data_ticks t "
                    "JOIN data_sources s ON s.id = t.source_id"
                )
            )
            == "unspecified"
        )
        # Negative control: a day far outside the window has no partition.
        with pytest.raises(Exception, match="no partition"):
            conn.execute(
                text(
                    "INSERT INTO market_data_ticks (time, contract_id) "
                    "VALUES (now() + interval '40 days', :c)"
                ),
                {"c": cid},
            )
    monkeypatch.setenv("ALC_DATABASE_URL", url.render_as_string(hide_password=False))
    assert main(["db", "maintain"]) == 0
    with engine.connect() as conn:
        ready = (
            conn.execute(
                text(
                    "SELECT tablename FROM partition_info WHERE parent_table = 'market_data_ticks' "
                    "AND range_end > now() - interval '1 day' "
                    "AND range_start < now() + interval '8 days'"
                )
            )
            .scalars()
            .all()
        )
    assert len(ready) >= 9
    engine.dispose()
    assert TICK_DAYS  # the shared data module is the one the TimescaleDB leg uses too


def test_a_failure_late_in_the_upgrade_leaves_the_revision_before_intact(
    database_factory: Callable[[], URL],
) -> None:
    url = database_factory()
    migrate.upgrade(url, "0004", backend="postgres")
    engine = _sync(url)
    with engine.connect() as conn:
        fill_at_0004(conn)
        before = snapshot(conn)
    migrate.upgrade(url, "0005")  # the pacing ledger: no row of 0004 is touched
    with engine.connect() as conn:
        # An object whose name the upgrade needs after it re-keyed the tick and bar tables.
        conn.execute(text("CREATE TABLE blocker (x int)"))
        conn.execute(text("CREATE INDEX uq_history_requests_source_id ON blocker (x)"))
    with pytest.raises(Exception, match="uq_history_requests_source_id"):
        migrate.upgrade(url, "head")
    assert migrate.database_revision(url) == "0005"
    with engine.connect() as conn:
        assert conn.scalar(text("SELECT to_regclass('data_sources')")) is None
        assert not conn.scalar(
            text("SELECT count(*) FROM information_schema.columns WHERE column_name = 'source_id'")
        )
        assert snapshot(conn) == before
        conn.execute(text("DROP TABLE blocker"))
    migrate.upgrade(url, "head")  # and it runs once the obstacle is gone
    with engine.connect() as conn:
        assert snapshot(conn) == before
    engine.dispose()
