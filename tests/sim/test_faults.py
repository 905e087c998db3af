"""Scripted faults surface in ib_async as they would from a real gateway."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

import pytest
from ib_async import IB, Stock

from alc_data.ib.pacing import PacingRules
from alc_data.ib.sim import SimClock, SimConfig, SimServer

pytestmark = pytest.mark.timeout(30)
Connect = Callable[..., Awaitable[IB]]
Until = Callable[..., Awaitable[None]]


def record_errors(ib: IB) -> list[tuple[int, int, str]]:
    errors: list[tuple[int, int, str]] = []
    ib.errorEvent += lambda req_id, code, msg, contract: errors.append((req_id, code, msg))
    return errors


async def test_drop_connection_then_reconnect(sim: SimServer, connect: Connect) -> None:
    ib = await connect(1)
    other = await connect(2)
    lost = asyncio.Event()
    ib.disconnectedEvent += lost.set
    await sim.faults.drop_connections(client_id=1)
    await asyncio.wait_for(lost.wait(), 2)
    assert not ib.isConnected() and other.isConnected()
    await ib.connectAsync("127.0.0.1", sim.port, clientId=1)
    assert ib.isConnected() and (await ib.reqCurrentTimeAsync()) is not None


async def test_stalled_replies_time_out(sim: SimServer, ib: IB) -> None:
    spy = Stock("SPY", "SMART", "USD")
    await ib.qualifyContractsAsync(spy)
    sim.faults.stall("history", "contract_details")
    bars = await ib.reqHistoricalDataAsync(spy, "", "1 D", "1 hour", "TRADES", True, timeout=0.5)
    assert list(bars) == []  # ib_async's answer to a timeout: an empty list
    with pytest.raises(asyncio.TimeoutError):
        await asyncio.wait_for(ib.reqContractDetailsAsync(Stock("QQQ", "SMART", "USD")), 0.5)
    sim.faults.unstall()
    assert len(await ib.reqHistoricalDataAsync(spy, "", "1 D", "1 hour", "TRADES", True)) > 0


async def test_late_replies(sim: SimServer, ib: IB) -> None:
    sim.faults.stall("current_time", delay=0.3)
    reply = asyncio.ensure_future(ib.reqCurrentTimeAsync())
    await asyncio.sleep(0.05)
    assert not reply.done()  # stalled: not answered yet (the delay only ever makes it later)
    assert await asyncio.wait_for(reply, 10) is not None  # positive control: answered late


async def test_connectivity_messages(sim: SimServer, ib: IB, until: Until) -> None:
    errors = record_errors(ib)
    spy = Stock("SPY", "SMART", "USD")
    await ib.qualifyContractsAsync(spy)
    ib.reqMktData(spy)
    await until(lambda: sim.lines_in_use() == 1)
    sim.faults.lose_connectivity()
    sim.faults.restore_connectivity()
    sim.faults.lose_connectivity()
    sim.faults.restore_connectivity(data_lost=True)

    def codes() -> list[int]:
        return [code for req_id, code, _ in errors if req_id == -1]

    await until(lambda: len(codes()) == 4)
    assert codes() == [1100, 1102, 1100, 1101]
    assert sim.lines_in_use() == 0 and ib.isConnected()


async def test_not_subscribed_gives_354(sim: SimServer, ib: IB, until: Until) -> None:
    errors = record_errors(ib)
    aapl = Stock("AAPL", "SMART", "USD")
    await ib.qualifyContractsAsync(aapl)
    sim.faults.deny_market_data("AAPL")
    ticker = ib.reqMktData(aapl)
    await until(lambda: errors)
    await asyncio.sleep(0.05)
    assert [(code, msg) for _, code, msg in errors] == [
        (354, "Requested market data is not subscribed.")
    ]
    assert ticker.bid != ticker.bid  # NaN: no data


async def test_scripted_pacing_violation(sim: SimServer, ib: IB) -> None:
    errors = record_errors(ib)
    spy = Stock("SPY", "SMART", "USD")
    await ib.qualifyContractsAsync(spy)
    sim.faults.violate_pacing()
    assert list(await ib.reqHistoricalDataAsync(spy, "", "1 D", "1 hour", "TRADES", True)) == []
    assert [c for _, c, _ in errors] == [162] and "pacing violation" in errors[0][2]
    assert len(await ib.reqHistoricalDataAsync(spy, "", "1 D", "1 hour", "TRADES", True)) > 0


async def test_pacing_rules_are_enforced() -> None:
    """Pacing is decided on an injected clock: no test outcome depends on how long it waits."""
    ticks = [1000.0]
    config = SimConfig(seed=1, pacing=PacingRules())  # IB's own 15 s for identical requests
    clock = SimClock(datetime(2026, 11, 18, 16, 0, tzinfo=UTC))  # in a session
    async with SimServer(config, port=0, clock=clock, monotonic=lambda: ticks[0]) as sim:
        ib = IB()
        await ib.connectAsync("127.0.0.1", sim.port, clientId=3)
        errors = record_errors(ib)
        spy = Stock("SPY", "SMART", "USD")
        await ib.qualifyContractsAsync(spy)
        args = (spy, "", "1800 S", "30 secs", "MIDPOINT", False)
        assert len(await ib.reqHistoricalDataAsync(*args)) > 0
        ticks[0] += 14.9
        assert list(await ib.reqHistoricalDataAsync(*args)) == []  # identical within 15 s
        assert [c for _, c, _ in errors] == [162]
        ticks[0] += 0.2  # 15.1 s after the first: allowed again
        assert len(await ib.reqHistoricalDataAsync(*args)) > 0
        assert [c for _, c, _ in errors] == [162]
        ib.disconnect()


async def test_same_seed_same_data_over_the_wire() -> None:
    results = []
    for _ in range(2):
        async with SimServer(SimConfig(seed=11), port=0) as sim:
            ib = IB()
            await ib.connectAsync("127.0.0.1", sim.port, clientId=1)
            spy = Stock("SPY", "SMART", "USD")
            await ib.qualifyContractsAsync(spy)
            bars = await ib.reqHistoricalDataAsync(
                spy, "20261117 16:00:00 US/Eastern", "2 D", "15 mins", "TRADES", True
            )
            results.append([(b.date, b.open, b.high, b.low, b.close, b.volume) for b in bars])
            ib.disconnect()
    assert results[0] == results[1] and len(results[0]) == 52
