"""Fixtures: a simulator on an ephemeral port and real ib_async clients connected to it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from ib_async import IB

from alc_data.ib.sim import SimConfig, SimServer


@pytest.fixture
async def sim() -> AsyncIterator[SimServer]:
    """A running simulator (seed 7, fast updates) on a free port."""
    server = SimServer(SimConfig(seed=7, update_interval=0.02), port=0)
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


@pytest.fixture
async def connect(sim: SimServer) -> AsyncIterator[Callable[..., Awaitable[IB]]]:
    """Connect real ib_async clients (with default connectAsync arguments) to ``sim``."""
    clients: list[IB] = []

    async def _connect(client_id: int = 1) -> IB:
        ib = IB()
        await ib.connectAsync("127.0.0.1", sim.port, clientId=client_id)
        clients.append(ib)
        return ib

    yield _connect
    for ib in clients:
        ib.disconnect()


@pytest.fixture
async def ib(connect: Callable[..., Awaitable[IB]]) -> IB:
    """One connected client (client id 1)."""
    return await connect(1)


async def _until(condition: Callable[[], object], within: float = 5.0) -> None:
    """Wait until ``condition()`` is true (polling), failing the test after ``within`` s."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not condition():
        if loop.time() > deadline:
            raise AssertionError(f"condition not met within {within} s")
        await asyncio.sleep(0.01)


@pytest.fixture
def until() -> Callable[..., Awaitable[None]]:
    """``await until(lambda: ...)``: poll a condition instead of sleeping a fixed time."""
    return _until
