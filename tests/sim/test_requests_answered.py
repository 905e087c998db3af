"""Every request the client can send gets data or an immediate error, never silence."""

from __future__ import annotations

import asyncio
import inspect
import re
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

import pytest
from ib_async import IB, Contract, Index, Option, ScannerSubscription, Stock

from alc_data.ib.sim import SimConfig, SimServer
from alc_data.ib.sim.calculator import value_at_vol
from alc_data.ib.sim.instruments import OptionSpec
from alc_data.ib.sim.market_rules import MARKET_RULES
from alc_data.ib.sim.requests import HANDLERS

pytestmark = pytest.mark.timeout(60)
FROZEN_AT = datetime(2026, 11, 18, 16, 0, 7, tzinfo=UTC)
Until = Callable[..., Awaitable[None]]


async def _atm(ib: IB, sim: SimServer, nth: int = 3) -> tuple[Option, Option]:
    chains = await ib.reqSecDefOptParamsAsync("SPY", "", "STK", 756733)
    expiry = sorted(chains[0].expirations)[nth]
    spot = sim.model.path("SPY").price(sim.clock.now().timestamp())
    strike = min(chains[0].strikes, key=lambda k: abs(k - spot))
    call, put = (Option("SPY", expiry, strike, r, "SMART") for r in ("C", "P"))
    assert all(await ib.qualifyContractsAsync(call, put))
    return call, put


async def _replies(ib: IB, send: Callable[[], object], within: float = 5.0) -> int:
    """How many messages arrive after ``send()`` until the first one (or 0 after ``within``)."""
    before = ib.client.connectionStats().numMsgRecv
    send()
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while ib.client.connectionStats().numMsgRecv == before:
        if loop.time() > deadline:
            break
        await asyncio.sleep(0.01)
    return int(ib.client.connectionStats().numMsgRecv - before)


async def test_market_rules_match_the_quoted_ticks(sim: SimServer, ib: IB) -> None:
    call, _ = await _atm(ib, sim)
    (details,) = await ib.reqContractDetailsAsync(call)
    rule = int(details.marketRuleIds.split(",")[0])
    increments = await ib.reqMarketRuleAsync(rule)
    assert [(p.lowEdge, p.increment) for p in increments] == list(MARKET_RULES[rule])
    aapl_rule = await ib.reqMarketRuleAsync(32)
    assert [(p.lowEdge, p.increment) for p in aapl_rule] == [(0.0, 0.01), (3.0, 0.05)]
    option = sim.model.contract(call.conId)
    assert isinstance(option, OptionSpec)
    for price in (0.5, 5.0):
        step = [i for low, i in MARKET_RULES[rule] if price >= low][-1]
        assert sim.model.option_tick(option, price) == step
    assert await ib.reqMarketRuleAsync(999_999) == []  # unknown rule: no increments


async def test_matching_symbols(ib: IB) -> None:
    found = await ib.reqMatchingSymbolsAsync("aap")
    assert found is not None and len(found) == 1
    (apple,) = found
    assert apple.contract is not None
    assert (apple.contract.symbol, apple.contract.conId, apple.contract.secType) == (
        "AAPL",
        265598,
        "STK",
    )
    assert apple.derivativeSecTypes == ["OPT"]
    by_name = await ib.reqMatchingSymbolsAsync("russell")
    assert by_name is not None and [d.contract.symbol for d in by_name if d.contract] == ["IWM"]
    assert await ib.reqMatchingSymbolsAsync("ZZZZ") == []


async def test_option_calculations_come_from_the_pricing_model(sim: SimServer, ib: IB) -> None:
    sim.clock.freeze(FROZEN_AT)
    call, put = await _atm(ib, sim)
    spot = sim.model.spot(sim.model.underlyings_by_symbol("SPY"), FROZEN_AT.timestamp())
    priced = await ib.calculateOptionPriceAsync(put, 0.2, spot)
    assert priced is not None and priced.optPrice is not None
    option = sim.model.contract(put.conId)
    assert isinstance(option, OptionSpec)
    expected = value_at_vol(sim.model, option, spot, 0.2, FROZEN_AT.timestamp())
    assert priced.optPrice == pytest.approx(round(expected.price, 4))
    assert priced.impliedVol == pytest.approx(0.2) and priced.undPrice == pytest.approx(spot)
    # the American put is worth more than the European value at the same volatility
    assert expected.price > 0 and priced.delta is not None and -1 < priced.delta < 0
    solved = await ib.calculateImpliedVolatilityAsync(put, priced.optPrice, spot)
    assert solved is not None and solved.impliedVol == pytest.approx(0.2, abs=1e-4)
    quote = sim.model.quote(call.conId, FROZEN_AT)
    assert quote.greeks is not None and quote.mid is not None
    model_iv = await ib.calculateImpliedVolatilityAsync(call, quote.greeks.price, quote.und_price)
    assert model_iv is not None and model_iv.impliedVol == pytest.approx(quote.greeks.iv, abs=2e-3)
    errors: list[int] = []
    ib.errorEvent += lambda _r, code, _m, _c: errors.append(code)
    spy = Stock("SPY", "SMART", "USD")
    await ib.qualifyContractsAsync(spy)
    assert not await ib.calculateOptionPriceAsync(spy, 0.2, spot)
    assert 200 in errors  # a stock is not an option: refused at once, not timed out


async def test_unknown_cancel_gets_error_300(sim: SimServer, ib: IB, until: Until) -> None:
    errors: list[tuple[int, int]] = []
    ib.errorEvent += lambda req_id, code, _m, _c: errors.append((req_id, code))
    ib.client.cancelMktData(4242)
    await until(lambda: (4242, 300) in errors)
    spy = Stock("SPY", "SMART", "USD")
    await ib.qualifyContractsAsync(spy)
    ticker = ib.reqMktData(spy)
    await until(lambda: ticker.bid > 0)
    ib.cancelMktData(spy)  # a known one cancels quietly
    await until(lambda: not any(s.subscriptions for s in sim.sessions))
    await ib.reqCurrentTimeAsync()  # everything sent before it has been handled
    assert [e for e in errors if e[1] == 300] == [(4242, 300)]


async def test_above_50_messages_a_second_gets_error_100(until: Until) -> None:
    ticks = [0.0]
    config = SimConfig(seed=3, rate_stall_allowance=False)  # the bare limit, on a stepped clock
    server = SimServer(config, port=0, monotonic=lambda: ticks[0])
    await server.start()
    ib = IB()
    try:
        await ib.connectAsync("127.0.0.1", server.port, clientId=1)
        ib.client.MaxRequests = 0  # lift ib_async's own throttle (it stays under IB's limit)
        errors: list[int] = []
        ib.errorEvent += lambda _r, code, _m, _c: errors.append(code)
        ticks[0] = 10.0  # a new second: the start-up requests no longer count
        answered = await _replies(ib, lambda: [ib.client.reqCurrentTime() for _ in range(50)])
        await until(lambda: ib.client.connectionStats().numMsgRecv >= answered)
        await asyncio.sleep(0)
        assert errors.count(100) == 0  # 50 in one second: allowed
        for _ in range(5):
            ib.client.reqCurrentTime()
        await until(lambda: errors.count(100) == 5)  # the 51st to 55th: refused
        ticks[0] = 11.5
        assert await asyncio.wait_for(ib.reqCurrentTimeAsync(), 5)  # the next second is fine
        assert errors.count(100) == 5
    finally:
        ib.disconnect()
        await server.stop()


async def test_messages_bunched_up_by_a_blocked_loop_are_allowed_for(until: Until) -> None:
    server = SimServer(SimConfig(seed=3), port=0)
    await server.start()
    ib = IB()
    try:
        await ib.connectAsync("127.0.0.1", server.port, clientId=1)
        ib.client.MaxRequests = 0
        errors: list[int] = []
        ib.errorEvent += lambda _r, code, _m, _c: errors.append(code)
        for _ in range(40):
            ib.client.reqCurrentTime()
        time.sleep(1.0)  # noqa: ASYNC251 - block the loop: what the client sent waits unread
        for _ in range(40):
            ib.client.reqCurrentTime()
        await asyncio.wait_for(ib.reqCurrentTimeAsync(), 5)
        assert errors.count(100) == 0  # 81 read at once, but sent over a second
        for _ in range(200):
            ib.client.reqCurrentTime()
        await until(lambda: errors.count(100) > 0)  # the positive control: a real burst
    finally:
        ib.disconnect()
        await server.stop()


async def test_requests_around_market_data_are_answered(sim: SimServer, ib: IB) -> None:
    assert await asyncio.wait_for(ib.reqNewsProvidersAsync(), 5) == []
    assert await asyncio.wait_for(ib.reqScannerParametersAsync(), 5)
    exchanges = await asyncio.wait_for(ib.reqMktDepthExchangesAsync(), 5)
    assert exchanges and exchanges[0].secType == "STK"
    components = await asyncio.wait_for(ib.reqSmartComponentsAsync("a6"), 5)
    assert {c.exchange for c in components} >= {"ARCA", "CBOE"}
    await asyncio.wait_for(ib.reqUserInfoAsync(), 5)  # ib_async keeps no white-branding id
    spy = Stock("SPY", "SMART", "USD")
    await ib.qualifyContractsAsync(spy)
    news = await ib.reqHistoricalNewsAsync(spy.conId, "BZ", "", "", 10)
    assert not news  # no news: the end arrives at once
    assert not await asyncio.wait_for(ib.reqFundamentalDataAsync(spy, "ReportSnapshot"), 5)
    # 321 (not simulated) arrives at once; ib_async files 321 as a warning and keeps waiting
    refused: list[int] = []
    ib.errorEvent += lambda _r, code, _m, _c: refused.append(code)
    assert await _replies(ib, lambda: ib.client.reqHistogramData(99, spy, True, "1 week")) == 1
    assert refused == [321]
    pnl = ib.reqPnL("DU1234567")
    await asyncio.sleep(0)
    assert pnl.account == "DU1234567"


async def test_market_depth_shows_the_top_of_the_book(sim: SimServer, ib: IB, until: Until) -> None:
    sim.clock.freeze(FROZEN_AT)
    spy = Stock("SPY", "SMART", "USD")
    await ib.qualifyContractsAsync(spy)
    ticker = ib.reqMktDepth(spy, 5)
    await until(lambda: ticker.domBids and ticker.domAsks)
    q = sim.model.quote(spy.conId, FROZEN_AT)
    assert (ticker.domBids[0].price, ticker.domBids[0].size) == (q.bid, q.bid_size)
    assert (ticker.domAsks[0].price, ticker.domAsks[0].size) == (q.ask, q.ask_size)
    errors: list[int] = []
    ib.errorEvent += lambda _r, code, _m, _c: errors.append(code)
    spx = Index("SPX", "CBOE")
    await ib.qualifyContractsAsync(spx)
    ib.reqMktDepth(spx, 5)
    await until(lambda: 10092 in errors)


@pytest.mark.parametrize(
    "name",
    [
        "exerciseOptions",
        "reqScannerSubscription",
        "reqNewsArticle",
        "reqWshMetaData",
        "requestFA",
        "cancelOrder",
        "reqFamilyCodes",
        "reqSoftDollarTiers",
        "queryDisplayGroups",
        "subscribeToGroupEvents",
        "reqPositionsMulti",
        "verifyRequest",
        "verifyAndAuthRequest",
        "reqPnLSingle",
        "unknown message 999",
    ],
)
async def test_each_request_gets_a_reply(sim: SimServer, ib: IB, name: str) -> None:
    c = ib.client
    spy = Contract(conId=756733, symbol="SPY", secType="STK", exchange="SMART", currency="USD")
    sends: dict[str, Callable[[], object]] = {
        "exerciseOptions": lambda: c.exerciseOptions(77, spy, 1, 1, "DU1234567", 0),
        "reqScannerSubscription": lambda: c.reqScannerSubscription(
            78, ScannerSubscription(), [], []
        ),
        "reqNewsArticle": lambda: c.reqNewsArticle(79, "BZ", "BZ$1", []),
        "reqWshMetaData": lambda: c.reqWshMetaData(80),
        "requestFA": lambda: c.requestFA(1),
        "cancelOrder": lambda: c.cancelOrder(81),
        "reqFamilyCodes": c.reqFamilyCodes,
        "reqSoftDollarTiers": lambda: c.reqSoftDollarTiers(82),
        "queryDisplayGroups": lambda: c.queryDisplayGroups(83),
        "subscribeToGroupEvents": lambda: c.subscribeToGroupEvents(84, 1),
        "reqPositionsMulti": lambda: c.reqPositionsMulti(85, "DU1234567", ""),
        "verifyRequest": lambda: c.verifyRequest("sim", "1"),
        "verifyAndAuthRequest": lambda: c.verifyAndAuthRequest("sim", "1", "key"),
        "reqPnLSingle": lambda: c.reqPnLSingle(86, "DU1234567", "", 756733),
        "unknown message 999": lambda: c.send(999, 1, 87),
    }
    assert await _replies(ib, sends[name]) >= 1


async def test_requests_tws_takes_silently_get_no_reply(sim: SimServer, ib: IB) -> None:
    c = ib.client
    for send in (
        lambda: c.reqNewsBulletins(True),
        lambda: c.setServerLogLevel(3),
        c.reqGlobalCancel,
        lambda: c.cancelPnL(5),
    ):
        assert await _replies(ib, send, within=0.3) == 0
    assert await _replies(ib, c.reqCurrentTime) == 1  # positive control: the socket answers


def _ids_sent_by(source: str) -> set[int]:
    """The message ids a client library's request methods send (``send(N, ...``, ``[N, ...``)."""
    found = re.findall(r"self\.send\(\s*(\d+)|fields\s*=\s*\[\s*(\d+)", source)
    return {int(a or b) for a, b in found}


def test_every_message_ib_async_sends_has_a_handler() -> None:
    import ib_async.client

    sent = _ids_sent_by(inspect.getsource(ib_async.client))
    assert len(sent) >= 80  # the parse found the request methods
    assert sent - set(HANDLERS) == set()
