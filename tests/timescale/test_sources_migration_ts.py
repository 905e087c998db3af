"""Revision 0006 (provenance) on TimescaleDB with data in it, a compressed chunk among it:
the upgrade decompresses, re-keys and compresses again in one transaction, every row keeps
its values with the ``legacy`` source, and the downgrade and a second upgrade do the same."""

from __future__ import annotations

import os

import pytest
from sqlalchemy import Connection, create_engine, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.pool import NullPool

from alc_data.config import with_driver
from alc_data.db import migrate
from tests.support.source_migration_data import fill_at_0004, snapshot, sources_by_table

pytestmark = pytest.mark.timeout(600)

_CLEAR = (
    "arbitrage_opportunities",
    "history_requests",
    "market_data_ticks",
    "stock_data_ticks",
    "option_bars",
    "stock_bars",
    "option_chains",
    "underlying_securities",
)


def _compressed(conn: Connection) -> list[str]:
    return list(
        conn.execute(
            text(
                "SELECT hypertable_name || ':' || range_start::date FROM "
                "timescaledb_information.chunks WHERE is_compressed ORDER BY 1"
            )
        ).scalars()
    )


def test_upgrade_with_a_compressed_chunk_keeps_every_row(ts_migrated: URL) -> None:
    url = ts_migrated
    migrate.downgrade(url, "0004")
    sync_url = with_driver(make_url(os.environ["ALC_TEST_TIMESCALE_URL"]), "psycopg")
    engine = create_engine(sync_url, poolclass=NullPool, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            fill_at_0004(conn)
            conn.execute(
                text(
                    "SELECT compress_chunk(c) FROM show_chunks('market_data_ticks', "
                    "older_than => TIMESTAMPTZ '2026-09-02') c"
                )
            )
            compressed = _compressed(conn)
            before = snapshot(conn)
        assert compressed == ["market_data_ticks:2026-09-01"]  # positive control

        # A failure late in revision 0006 (after the decompression and the re-keying) leaves
        # the revision before it as it was: chunks compressed, no source column, every row.
        migrate.upgrade(url, "0005")  # the pacing ledger: no row of 0004 is touched
        with engine.connect() as conn:
            conn.execute(text("CREATE TABLE blocker (x int)"))
            conn.execute(text("CREATE INDEX uq_history_requests_source_id ON blocker (x)"))
        with pytest.raises(Exception, match="uq_history_requests_source_id"):
            migrate.upgrade(url, "head")
        with engine.connect() as conn:
            assert conn.scalar(text("SELECT version_num FROM alembic_version")) == "0005"
            assert conn.scalar(text("SELECT to_regclass('data_sources')")) is None
            assert snapshot(conn) == before and _compressed(conn) == compressed
            conn.execute(text("DROP TABLE blocker"))

        migrate.upgrade(url, "head")
        with engine.connect() as conn:
            assert snapshot(conn) == before
            assert sources_by_table(conn) == {t: {"legacy": len(r)} for t, r in before.items()}
            assert _compressed(conn) == compressed  # compressed again, not left expanded
            segment = conn.scalar(
                text(
                    "SELECT segmentby FROM timescaledb_information.hypertable_columnstore_settings"
                    " WHERE hypertable::text = 'market_data_ticks'"
                )
            )
            assert segment == "contract_id,source_id"
        assert migrate.check(url) is None

        migrate.downgrade(url, "0004")
        with engine.connect() as conn:
            assert snapshot(conn) == before and _compressed(conn) == compressed
        migrate.upgrade(url, "head")
        with engine.connect() as conn:
            assert snapshot(conn) == before and _compressed(conn) == compressed
    finally:
        with engine.connect() as conn:
            conn.execute(text("DROP TABLE IF EXISTS blocker"))
            for chunk in conn.execute(
                text(
                    "SELECT format('%I.%I', chunk_schema, chunk_name) FROM "
                    "timescaledb_information.chunks WHERE is_compressed"
                )
            ).scalars():
                conn.execute(text(f"SELECT decompress_chunk('{chunk}')"))
            for table in _CLEAR:
                conn.execute(text(f"DELETE FROM {table}"))
        engine.dispose()
