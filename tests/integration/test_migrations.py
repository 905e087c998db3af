"""The Alembic chain: up, down, up again; one head; no drift; downgrade leaves nothing behind."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL

from alc_data.config import with_driver
from alc_data.db import migrate
from alc_data.errors import BackendUnavailableError


def _catalog(url: URL) -> dict[str, set[str]]:
    """Every object in the public schema, by kind, read from the catalog."""
    engine = create_engine(with_driver(url, "psycopg"))
    try:
        with engine.connect() as conn:
            relations = conn.execute(
                text(
                    "SELECT relkind, relname FROM pg_class "
                    "WHERE relnamespace = 'public'::regnamespace"
                )
            ).all()
            functions = conn.execute(
                text("SELECT proname FROM pg_proc WHERE pronamespace = 'public'::regnamespace")
            ).scalars()
            kinds: dict[str, set[str]] = {"functions": set(functions)}
            for kind, name in relations:
                kinds.setdefault(kind, set()).add(name)
            return kinds
    finally:
        engine.dispose()


def test_single_head() -> None:
    assert len(migrate.heads()) == 1


def test_upgrade_downgrade_upgrade(database_factory: Callable[[], URL]) -> None:
    url = database_factory()
    migrate.upgrade(url, "head")
    first = _catalog(url)
    assert "market_data_ticks" in first["p"]

    migrate.downgrade(url, "base")
    left = _catalog(url)
    assert left.pop("functions") == set()
    tables = left.get("r", set())
    assert tables == {"alembic_version"}
    assert set().union(*(names for kind, names in left.items() if kind in "pvm")) == set()

    migrate.upgrade(url, "head")
    again = _catalog(url)
    assert again["p"] == first["p"]
    assert again["v"] == first["v"]
    assert again["functions"] == first["functions"]
    assert migrate.check(url) is None


def test_check_reports_no_drift(migrated_url: URL) -> None:
    assert migrate.check(migrated_url) is None


def test_check_detects_real_drift(database_factory: Callable[[], URL]) -> None:
    url = database_factory()
    migrate.upgrade(url, "head")
    engine = create_engine(with_driver(url, "psycopg"))
    with engine.begin() as conn:
        conn.execute(text("ALTER TABLE backtest_runs DROP COLUMN sharpe_ratio"))
    engine.dispose()
    drift = migrate.check(url)
    assert drift is not None and "sharpe_ratio" in drift


def test_timescale_requested_without_extension_is_a_clear_error(
    database_factory: Callable[[], URL],
) -> None:
    url = database_factory()
    cfg = migrate.alembic_config(url)
    cfg.attributes["backend"] = "timescale"
    from alembic import command

    with pytest.raises(BackendUnavailableError, match="timescaledb"):
        command.upgrade(cfg, "head")


def test_catalog_has_every_object(migrated_url: URL) -> None:
    catalog = _catalog(migrated_url)
    assert {
        "underlying_securities",
        "option_chains",
        "history_requests",
        "arbitrage_opportunities",
        "corporate_actions",
        "market_events",
        "data_quality_metrics",
        "backtest_runs",
        "alc_meta",
    } <= catalog["r"]
    assert catalog["p"] == {
        "market_data_ticks",
        "stock_data_ticks",
        "option_bars",
        "stock_bars",
        "market_data_1min",
        "market_data_5min",
        "stock_data_1min",
    }
    assert {"hypertable_stats", "partition_info"} <= catalog["v"]
    assert {
        "create_partition_range",
        "drop_old_partitions",
        "refresh_rollup",
        "alc_ensure_partition",
    } <= catalog["functions"]
