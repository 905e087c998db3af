"""Fixtures: a fast simulator, real ib_async clients, the migrated test database, a DB proxy."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator

import pytest
from ib_async import IB
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncEngine

from alc_data import Database
from alc_data.ib.sim import SimConfig, SimServer
from tests.support.db_proxy import DbProxy

_client_ids = itertools.count(11)


@pytest.fixture
async def sim() -> AsyncIterator[SimServer]:
    """A simulator (seed 7, 50 ms updates, 100 lines) on a free port."""
    async with SimServer(SimConfig(seed=7, update_interval=0.05, lines=100), port=0) as server:
        yield server


@pytest.fixture
async def ib(sim: SimServer) -> AsyncIterator[IB]:
    """A real ib_async client connected to ``sim``."""
    client = IB()
    await client.connectAsync("127.0.0.1", sim.port, clientId=next(_client_ids))
    yield client
    client.disconnect()


@pytest.fixture
async def db(clean_db: AsyncEngine, migrated_url: URL) -> AsyncIterator[Database]:
    """The migrated test database (emptied after the test)."""
    database = Database.from_url(migrated_url)
    yield database
    await database.close()


@pytest.fixture
def db_proxy(migrated_url: URL) -> DbProxy:
    """A proxy to the test database (severed by the test, never the server itself)."""
    return DbProxy(migrated_url)
