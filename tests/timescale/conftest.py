"""The TimescaleDB leg: a real TimescaleDB engine at ``ALC_TEST_TIMESCALE_URL``.

``.ci/run`` starts the PGlite + TimescaleDB server (``.ci/timescale/start.sh``) and sets the
variable; a skipped leg fails CI there. The engine serves one connection at a time and one
database, so these tests use short-lived single connections (NullPool) one after another and
leave the database as they found it.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator

import pytest
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

from alc_data.config import with_driver
from alc_data.db import migrate


def timescale_url() -> URL:
    raw = os.environ.get("ALC_TEST_TIMESCALE_URL")
    if not raw:
        pytest.skip("ALC_TEST_TIMESCALE_URL is not set (no TimescaleDB server)")
    url = with_driver(make_url(raw), "asyncpg")
    # The engine needs asyncpg's statement cache off; it speaks no TLS.
    query = dict(url.query)
    query.pop("sslmode", None)
    query.update({"prepared_statement_cache_size": "0", "ssl": "disable"})
    return url.set(query=query)


@pytest.fixture(scope="session")
def ts_url() -> URL:
    return timescale_url()


@pytest.fixture(scope="session")
def ts_migrated(ts_url: URL) -> URL:
    """The TimescaleDB database migrated to head (with a 30-day retention policy).

    This engine is one PostgreSQL session that can load the extension's library only once, so
    the leg creates the extension through the migration once, keeps it while cycling the
    time-series revision, and the last test downgrades to base (dropping it).
    """
    migrate.upgrade(ts_url, "head", backend="timescale", retention_days=30)
    return ts_url


@pytest.fixture
async def ts_engine(ts_migrated: URL) -> AsyncIterator[AsyncEngine]:
    """One connection at a time: NullPool, disposed after the test."""
    engine = create_async_engine(ts_migrated, poolclass=NullPool)
    yield engine
    await engine.dispose()
