"""Historical ticks, tick-by-tick, real-time bars and keepUpToDate history through ib_async."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from typing import Any

import pytest
from ib_async import (
    IB,
    Index,
    Option,
    Stock,
    TickByTickAllLast,
    TickByTickBidAsk,
    TickByTickMidPoint,
)

from alc_data.ib.sim import SimClock, SimConfig, SimServer, parse_scenario
from alc_data.ib.sim.bars import compute_bar

pytestmark = pytest.mark.timeout(60)
FROZEN_AT = datetime(2026, 11, 18, 16, 0, 5, tzinfo=UTC)  # a Wednesday, 11:00 New York
Until = Callable[..., Awaitable[None]]


async def _spy(ib: IB) -> Stock:
    spy = Stock("SPY", "SMART", "USD")
    await ib.qualifyContractsAsync(spy)
    return spy


async def test_historical_ticks_of_each_kind(sim: SimServer, ib: IB) -> None:
    sim.clock.freeze(FROZEN_AT)
    spy = await _spy(ib)
    quotes = await ib.reqHistoricalTicksAsync(spy, "", FROZEN_AT, 50, "BID_ASK", True)
    assert len(quotes) == 50
    times = [t.time for t in quotes]
    assert times == sorted(times) and times[-1] <= FROZEN_AT
    for t in quotes[-5:]:
        q = sim.model.quote(spy.conId, t.time)
        assert (t.priceBid, t.priceAsk, t.sizeBid, t.sizeAsk) == (
            q.bid,
            q.ask,
            q.bid_size,
            q.ask_size,
        )
    start = FROZEN_AT - timedelta(minutes=10)
    trades = await ib.reqHistoricalTicksAsync(spy, start, "", 20, "TRADES", True)
    assert len(trades) == 20 and trades[0].time >= start
    q = sim.model.quote(spy.conId, trades[0].time)
    assert (trades[0].price, trades[0].size) == (q.last, q.last_size)
    mids = await ib.reqHistoricalTicksAsync(spy, "", FROZEN_AT, 5000, "MIDPOINT", True)
    assert len(mids) == 1000  # IB's cap
    assert all(a.price != b.price for a, b in pairwise(mids))
    chains = await ib.reqSecDefOptParamsAsync("SPY", "", "STK", spy.conId)
    expiry = sorted(chains[0].expirations)[2]
    spot = sim.model.path("SPY").price(FROZEN_AT.timestamp())
    strike = min(chains[0].strikes, key=lambda k: abs(k - spot))
    call = Option("SPY", expiry, strike, "C", "SMART")
    await ib.qualifyContractsAsync(call)
    option_trades = await ib.reqHistoricalTicksAsync(call, "", FROZEN_AT, 10, "TRADES", True)
    assert 0 < len(option_trades) <= 10
    assert option_trades[-1].price == sim.model.quote(call.conId, option_trades[-1].time).last


async def test_tick_by_tick_follows_the_quotes(sim: SimServer, ib: IB, until: Until) -> None:
    sim.clock.freeze(FROZEN_AT)
    spy = await _spy(ib)
    ticker = ib.reqTickByTickData(spy, "BidAsk")  # one ticker per contract gathers all three
    ib.reqTickByTickData(spy, "Last")
    ib.reqTickByTickData(spy, "MidPoint")
    seen: list[Any] = []  # ib_async clears tickByTicks on every update: collect them
    ticker.updateEvent += lambda t: seen.extend(t.tickByTicks)

    def latest(kind: type) -> Any:
        found = [t for t in seen if isinstance(t, kind)]
        return found[-1] if found else None

    for step in range(3):
        at = FROZEN_AT + timedelta(seconds=7 * step)
        sim.clock.freeze(at)
        q = sim.model.quote(spy.conId, at)
        book = (q.bid, q.ask, q.bid_size, q.ask_size)
        await until(
            lambda book=book: (
                (t := latest(TickByTickBidAsk)) is not None
                and (t.bidPrice, t.askPrice, t.bidSize, t.askSize) == book
            )
        )
        await until(lambda q=q: getattr(latest(TickByTickAllLast), "price", None) == q.last)
        await until(
            lambda q=q: abs(getattr(latest(TickByTickMidPoint), "midPoint", 0.0) - q.mid) < 1e-9
        )
    errors: list[int] = []
    ib.errorEvent += lambda _r, code, _m, _c: errors.append(code)
    spx = Index("SPX", "CBOE")
    await ib.qualifyContractsAsync(spx)
    ib.reqTickByTickData(spx, "BidAsk")
    await until(lambda: 10189 in errors)


async def test_real_time_bars_every_five_seconds(sim: SimServer, ib: IB, until: Until) -> None:
    sim.clock.freeze(FROZEN_AT)
    spy = await _spy(ib)
    bars = ib.reqRealTimeBars(spy, 5, "MIDPOINT", False)
    await ib.reqCurrentTimeAsync()  # the request has been handled at FROZEN_AT
    for n in (1, 2, 3):
        sim.clock.freeze(FROZEN_AT + timedelta(seconds=5 * n))
        await until(lambda n=n: len(bars) == n)
    assert [b.time for b in bars] == [FROZEN_AT + timedelta(seconds=5 * n) for n in range(3)]
    spec = sim.model.contract(spy.conId)
    assert spec is not None
    for b in bars:
        lo = b.time.timestamp()
        model = compute_bar(sim.model, spec, lo, lo + 5, "MIDPOINT")
        assert model is not None
        assert (b.open_, b.high, b.low, b.close) == (model.open, model.high, model.low, model.close)
    ib.cancelRealTimeBars(bars)
    sim.clock.freeze(FROZEN_AT + timedelta(seconds=30))
    await ib.reqCurrentTimeAsync()
    assert not any(s.streams for s in sim.sessions)


async def test_keep_up_to_date_history_streams_updates(
    sim: SimServer, ib: IB, until: Until
) -> None:
    sim.clock.freeze(FROZEN_AT)
    spy = await _spy(ib)
    bars = await ib.reqHistoricalDataAsync(
        spy, "", "1800 S", "1 min", "MIDPOINT", True, formatDate=2, keepUpToDate=True
    )
    first = len(bars)
    assert first > 0 and bars[-1].date == FROZEN_AT.replace(second=0)
    sim.clock.freeze(FROZEN_AT + timedelta(seconds=30))
    spec = sim.model.contract(spy.conId)
    assert spec is not None
    minute = FROZEN_AT.replace(second=0).timestamp()
    expected = compute_bar(sim.model, spec, minute, minute + 35, "MIDPOINT")
    assert expected is not None
    await until(lambda: bars[-1].close == expected.close)
    assert len(bars) == first
    sim.clock.freeze(FROZEN_AT + timedelta(seconds=70))
    await until(lambda: len(bars) == first + 1)
    assert bars[-1].date == FROZEN_AT.replace(second=0) + timedelta(minutes=1)
    errors: list[int] = []
    ib.errorEvent += lambda _r, code, _m, _c: errors.append(code)
    ib.client.reqHistoricalData(
        77, spy, "20261118 10:00:00 US/Eastern", "1800 S", "1 min", "MIDPOINT", 1, 2, True, []
    )
    await until(lambda: 321 in errors)  # an end date with keepUpToDate is refused


async def test_a_bid_that_goes_away_reaches_the_client_as_ibs_minus_one(until: Until) -> None:
    """IB sends "no bid" as price -1 with size 0 (the simulator used to send 0.0).

    The near leg of a planted calendar (far out of the money: no bid) is bid inside the window.
    """
    start = datetime(2026, 11, 18, 16, 0, 7, tzinfo=UTC)
    legs = [
        {"expiry": "2026-11-18", "strike": 588, "right": "C", "side": "sell"},
        {"expiry": "2026-11-19", "strike": 588, "right": "C", "side": "buy"},
    ]
    entry = {"id": "cal", "kind": "calendar", "symbol": "SPY", "legs": legs, "start": 60}
    entry |= {"duration_s": 120, "edge": 0.25}
    scenario = parse_scenario({"fees": {"per_contract": 0.65}, "opportunities": [entry]})
    config = SimConfig(seed=7, update_interval=0.02, scenario=scenario, scenario_start=start)
    server = SimServer(config, port=0, clock=SimClock(start + timedelta(seconds=90)))
    await server.start()
    ib = IB()
    try:
        await ib.connectAsync("127.0.0.1", server.port, clientId=1)
        near = Option("SPY", "20261118", 588.0, "C", "SMART")
        await ib.qualifyContractsAsync(near)
        wire: list[list[str]] = []
        interpret = ib.client.decoder.interpret
        ib.client.decoder.interpret = lambda fields: (wire.append(list(fields)), interpret(fields))
        ticker = ib.reqMktData(near)
        await until(lambda: ticker.bid > 0)  # planted: bid inside the window
        server.clock.freeze(start + timedelta(seconds=200))
        assert server.model.quote(near.conId, server.clock.now()).bid == 0.0
        await until(lambda: (ticker.bid, ticker.bidSize) == (-1, 0))
        bids = [f[4:6] for f in wire if f[:2] == ["1", "6"] and f[3] == "1"]
        assert bids[-1] == ["-1", "0"] and float(bids[0][0]) > 0
    finally:
        ib.disconnect()
        await server.stop()
