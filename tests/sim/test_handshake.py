"""Version negotiation on the raw socket: what a client outside the simulator's version gets."""

from __future__ import annotations

import asyncio
import struct

import pytest

from alc_data.ib.sim import SimServer
from alc_data.ib.sim.protocol import SERVER_VERSION


async def _hello(port: int, versions: str) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    payload = versions.encode()
    writer.write(b"API\0" + struct.pack(">I", len(payload)) + payload)
    await writer.drain()
    try:
        return await asyncio.wait_for(reader.read(4096), timeout=5)
    finally:
        writer.close()


@pytest.mark.timeout(20)
async def test_client_range_including_the_server_version_gets_it(sim: SimServer) -> None:
    answer = await _hello(sim.port, f"v157..{SERVER_VERSION + 2}")
    (length,) = struct.unpack(">I", answer[:4])
    version, _time, _ = answer[4 : 4 + length].split(b"\0")
    assert int(version) == SERVER_VERSION


@pytest.mark.timeout(20)
@pytest.mark.parametrize("versions", [f"v157..{SERVER_VERSION - 1}", "v100..120"])
async def test_client_without_the_server_version_is_refused(sim: SimServer, versions: str) -> None:
    assert await _hello(sim.port, versions) == b""  # closed without a version reply
