"""Version negotiation as TWS does it: the highest common version, refusals, layouts per version."""

from __future__ import annotations

import asyncio
import logging
import struct

import pytest
from ib_async import IB, Option, Stock

from alc_data.ib.sim import SimServer
from alc_data.ib.sim.protocol import MAX_SERVER_VERSION, MIN_SERVER_VERSION, negotiate

pytestmark = pytest.mark.timeout(30)


async def _hello(port: int, versions: str) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    payload = versions.encode()
    writer.write(b"API\0" + struct.pack(">I", len(payload)) + payload)
    await writer.drain()
    try:
        return await asyncio.wait_for(reader.read(4096), timeout=5)
    finally:
        writer.close()


def test_the_documented_range_covers_ib_async() -> None:
    assert (MIN_SERVER_VERSION, MAX_SERVER_VERSION) == (157, 178)
    assert negotiate(157, 178) == 178
    assert negotiate(100, 226) == 178  # IB's official 10.x client
    assert negotiate(100, 160) == 160
    assert negotiate(100, 151) is None  # ibapi 9.81
    assert negotiate(179, 226) is None


@pytest.mark.parametrize(
    ("versions", "expected"),
    [("v157..178", 178), ("v160..170", 170), ("v100..226", 178), ("v100..157", 157), ("v163", 163)],
)
async def test_the_highest_common_version_is_answered(
    sim: SimServer, versions: str, expected: int
) -> None:
    answer = await _hello(sim.port, versions)
    (length,) = struct.unpack(">I", answer[:4])
    version, when, _ = answer[4 : 4 + length].split(b"\0")
    assert int(version) == expected and when.endswith(b"UTC")


@pytest.mark.parametrize("versions", ["v100..151", "v179..226", "v100..120"])
async def test_a_range_outside_the_servers_is_refused_with_a_logged_reason(
    sim: SimServer, versions: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="alc_data.ib.sim"):
        assert await _hello(sim.port, versions) == b""  # closed without a version reply
    low, high = versions[1:].split("..")
    assert f"refusing client versions {low}..{high}: the simulator speaks 157..178" in caplog.text


async def _client(sim: SimServer, max_version: int, client_id: int = 1) -> IB:
    ib = IB()
    ib.client.MaxClientVersion = max_version
    await ib.connectAsync("127.0.0.1", sim.port, clientId=client_id)
    return ib


@pytest.mark.parametrize("version", [157, 163, 165, 170, 176])
async def test_layouts_follow_the_negotiated_version(sim: SimServer, version: int) -> None:
    ib = await _client(sim, version)
    try:
        assert ib.client.serverVersion() == version
        spy = Stock("SPY", "SMART", "USD")
        (details,) = await ib.reqContractDetailsAsync(spy)
        # decoded at this version, every field lands where it belongs
        assert details.contract is not None and details.contract.conId == 756733
        assert details.longName == "SPDR S&P 500 ETF TRUST" and details.minTick == 0.01
        assert details.marketRuleIds == "26,26" and details.timeZoneId == "US/Eastern"
        assert details.underSymbol == "" and details.stockType == "ETF"
        errors: list[tuple[int, str]] = []
        ib.errorEvent += lambda _r, code, msg, _c: errors.append((code, msg))
        bad = Option("SPY", "20261120", 1.5, "C", "SMART")
        assert await ib.qualifyContractsAsync(bad) == [None]
        assert (200, "No security definition has been found for the request") in errors
        samples = await ib.reqMatchingSymbolsAsync("SP")
        assert samples is not None
        assert [d.contract.symbol for d in samples if d.contract] == ["SPY", "SPX"]
        described = samples[0].contract.description if samples[0].contract else None
        assert described == ("SPDR S&P 500 ETF TRUST" if version >= 176 else "")
    finally:
        ib.disconnect()
