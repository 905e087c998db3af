"""Fixtures of the loader tests: a simulator with a frozen clock, real ib_async, a real database."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import datetime

import pytest
from ib_async import IB
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncEngine

from alc_data.db.database import Database
from alc_data.ib.pacing import PacingRules
from alc_data.ib.sim import SimClock, SimConfig, SimServer
from tests.support.loading import RULES, SimFactory


@pytest.fixture
async def start_sim() -> AsyncIterator[SimFactory]:
    """Start simulators (frozen at ``now``) with a connected ib_async client each."""
    servers: list[SimServer] = []
    clients: list[IB] = []

    async def start(
        now: datetime | None,
        rules: PacingRules = RULES,
        monotonic: Callable[[], float] | None = None,
    ) -> tuple[SimServer, IB]:
        clock = SimClock(now) if now is not None else SimClock()
        sim = SimServer(SimConfig(seed=11, pacing=rules), port=0, clock=clock,
                        monotonic=monotonic)  # fmt: skip
        await sim.start()
        servers.append(sim)
        ib = IB()
        await ib.connectAsync("127.0.0.1", sim.port, clientId=len(clients) + 1, readonly=True)
        clients.append(ib)
        return sim, ib

    yield start
    for ib in clients:
        ib.disconnect()
    for sim in servers:
        await sim.stop()


@pytest.fixture
async def db(clean_db: AsyncEngine, migrated_url: URL) -> AsyncIterator[Database]:
    """A Database on the session's migrated database (emptied after the test)."""
    database = Database.from_url(migrated_url)
    yield database
    await database.close()
