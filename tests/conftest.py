"""Test harness: a fresh database per test session, built only by ``alembic upgrade head``.

With ``ALC_TEST_DATABASE_URL`` (an admin URL, for example the PostgreSQL 15 server that
``.ci/run`` points at) each session creates its own database there and drops it at the end.
Without it, an embedded PostgreSQL is started in a temporary directory and deleted afterwards.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
import warnings
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from alc_data.config import with_driver
from alc_data.db import migrate

DATA_TABLES = (
    "market_data_ticks",
    "stock_data_ticks",
    "option_bars",
    "stock_bars",
    "market_data_1min",
    "market_data_5min",
    "stock_data_1min",
    "arbitrage_opportunities",
    "data_quality_metrics",
    "corporate_actions",
    "market_events",
    "history_requests",
    "instrument_aliases",
    "import_files",
    "history_pacing_ledger",
    "backtest_runs",
    "option_chains",
    "underlying_securities",
)


@pytest.fixture(scope="session")
def admin_url() -> Iterator[URL]:
    """A URL with the right to create databases (the shared server or an embedded one)."""
    configured = os.environ.get("ALC_TEST_DATABASE_URL")
    if configured:
        yield make_url(configured)
        return
    from alc_data.db.embedded import server_url, start_embedded

    with tempfile.TemporaryDirectory(prefix="alc-test-pg-") as tmp:
        os.chmod(tmp, 0o755)
        server = start_embedded(Path(tmp), cleanup="delete")
        yield server_url(server, database="postgres")
        server.cleanup()


@pytest.fixture(scope="session")
def database_factory(admin_url: URL) -> Iterator[Callable[[], URL]]:
    """Creates fresh, empty databases on the admin server; all are dropped at the end."""
    created: list[str] = []
    admin = create_engine(with_driver(admin_url, "psycopg"), isolation_level="AUTOCOMMIT")

    def make() -> URL:
        name = f"alc_test_{uuid.uuid4().hex[:12]}"
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        created.append(name)
        return with_driver(admin_url, "asyncpg").set(database=name)

    yield make
    with admin.connect() as conn:
        for name in created:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def migrated_url(database_factory: Callable[[], URL]) -> URL:
    """The session's database, migrated to head by Alembic (the only source of the schema)."""
    url = database_factory()
    migrate.upgrade(url, "head")
    return url


@pytest.fixture(scope="session")
async def engine(migrated_url: URL) -> AsyncIterator[AsyncEngine]:
    """An async engine on the session's migrated database."""
    eng = create_async_engine(migrated_url, pool_size=5)
    yield eng
    await eng.dispose()


@pytest.fixture
async def clean_db(engine: AsyncEngine) -> AsyncIterator[AsyncEngine]:
    """The migrated database, emptied after the test so that tests stay independent."""
    yield engine
    async with engine.begin() as conn:
        await conn.execute(text(f"TRUNCATE {', '.join(DATA_TABLES)} RESTART IDENTITY CASCADE"))
        # Sources registered by the test (revision 0006 seeds legacy = 1, unspecified = 2).
        await conn.execute(text("DELETE FROM data_sources WHERE id > 2"))
        partitions = await conn.execute(
            text(
                "SELECT relname FROM pg_class "
                "WHERE relispartition AND relkind IN ('r', 'p') "
                "AND relnamespace = 'public'::regnamespace"
            )
        )
        for name in partitions.scalars().all():
            await conn.execute(text(f'DROP TABLE IF EXISTS "{name}"'))


_OWN_DATA_DIR: list[str] = []


def pytest_configure(config: Any) -> None:
    if "ALC_DATA_DIR" not in os.environ:
        _OWN_DATA_DIR.append(tempfile.mkdtemp(prefix="alc-test-data-"))
        os.environ["ALC_DATA_DIR"] = _OWN_DATA_DIR[0]


def pytest_unconfigure(config: Any) -> None:
    """Remove the data directory this run made (nothing is left in the temporary directory)."""
    for path in _OWN_DATA_DIR:
        try:
            shutil.rmtree(path)
        except OSError as exc:  # say so, but do not fail a finished run over its temp files
            warnings.warn(f"could not remove {path}: {exc}", stacklevel=1)


UNIT_DIR = Path(__file__).resolve().parent / "unit"


def pytest_collection_modifyitems(config: Any, items: list[pytest.Item]) -> None:
    """Tiers: tests under tests/unit are ``unit`` (no database, no network, no simulator: they
    run in seconds with ``pytest -m unit``); every other test is ``integration``."""
    for item in items:
        tier = "unit" if UNIT_DIR in Path(item.path).parents else "integration"
        item.add_marker(tier)
