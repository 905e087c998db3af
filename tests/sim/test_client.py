"""The real ib_async client against the simulator over a real socket: requests and data."""

from __future__ import annotations

import asyncio
import math
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta

import pytest
from ib_async import IB, Contract, Index, Option, Stock

from alc_data.ib.sim import SERVER_VERSION, SimClock, SimConfig, SimServer

pytestmark = pytest.mark.timeout(30)
FROZEN_AT = datetime(2026, 11, 18, 16, 0, 7, tzinfo=UTC)  # a Wednesday, 11:00 New York
Connect = Callable[..., Awaitable[IB]]
Until = Callable[..., Awaitable[None]]


async def atm_options(ib: IB, sim: SimServer, symbol: str = "SPY", nth: int = 2) -> list[Contract]:
    chains = await ib.reqSecDefOptParamsAsync(symbol, "", "STK", 756733 if symbol == "SPY" else 0)
    expiry = sorted(chains[0].expirations)[nth]
    spot = sim.model.path(symbol).price(sim.clock.now().timestamp())
    strike = min(chains[0].strikes, key=lambda k: abs(k - spot))
    options = [Option(symbol, expiry, strike, right, "SMART") for right in ("C", "P")]
    qualified = await ib.qualifyContractsAsync(*options)
    assert all(qualified)
    return options


async def test_connect_with_defaults_and_several_clients(sim: SimServer, connect: Connect) -> None:
    first = await connect(1)
    assert first.isConnected() and first.client.serverVersion() == SERVER_VERSION
    assert first.managedAccounts() == ["SIMULATED"]  # never a paper account (DU...)
    others = [await connect(cid) for cid in (2, 7, 0)]
    times = await asyncio.gather(*(c.reqCurrentTimeAsync() for c in (first, *others)))
    assert all(abs((t - datetime.now(UTC)).total_seconds()) < 5 for t in times)
    with pytest.raises((ConnectionError, asyncio.TimeoutError)):
        await IB().connectAsync("127.0.0.1", sim.port, clientId=2, timeout=2)


async def test_qualify_stocks_index_options_and_unknowns(sim: SimServer, ib: IB) -> None:
    spy, aapl = Stock("SPY", "SMART", "USD"), Stock("AAPL", "SMART", "USD")
    spx, unknown = Index("SPX", "CBOE"), Stock("NOPE", "SMART", "USD")
    bad_option = Option("SPY", "20261120", 1.5, "C", "SMART")
    result = await ib.qualifyContractsAsync(spy, aapl, spx, unknown, bad_option)
    assert result[:3] == [spy, aapl, spx] and result[3:] == [None, None]
    assert (spy.conId, spy.primaryExchange) == (756733, "ARCA")
    assert (spx.conId, spx.secType) == (416904, "IND")
    call, put = await atm_options(ib, sim)
    assert call.conId != put.conId and call.multiplier == "100" and call.tradingClass == "SPY"
    assert call.localSymbol.startswith("SPY   ") and call.localSymbol[12] == "C"
    ambiguous = Option("SPY", call.lastTradeDateOrContractMonth, 0.0, "C", "SMART")
    assert await ib.qualifyContractsAsync(ambiguous) == [None]
    details = await ib.reqContractDetailsAsync(ambiguous)
    assert len(details) == len(
        sim.model.strikes("SPY", date.fromisoformat(call.lastTradeDateOrContractMonth))
    )
    by_id = Contract(conId=put.conId)
    assert await ib.qualifyContractsAsync(by_id) == [by_id] and by_id.right == "P"


async def test_chains(sim: SimServer, ib: IB) -> None:
    spx = Index("SPX", "CBOE")
    await ib.qualifyContractsAsync(spx)
    chains = await ib.reqSecDefOptParamsAsync("SPX", "", "IND", spx.conId)
    classes = {c.tradingClass for c in chains}
    assert classes == {"SPX", "SPXW"}
    smart = {c.tradingClass: c for c in chains if c.exchange == "SMART"}
    assert all(int(e[6:]) >= 15 for e in smart["SPX"].expirations)  # third Fridays
    assert all(s % 5 == 0 for s in smart["SPXW"].strikes)
    assert await ib.reqSecDefOptParamsAsync("NOPE", "", "STK", 0) == []


async def test_stream_matches_the_model(sim: SimServer, ib: IB, until: Until) -> None:
    sim.clock.freeze(FROZEN_AT)
    call, put = await atm_options(ib, sim, nth=20)  # expires after SPY's December ex-date
    spy = Stock("SPY", "SMART", "USD")
    await ib.qualifyContractsAsync(spy)
    tickers = [ib.reqMktData(c, "100,101,104,106,456") for c in (call, put, spy)]
    await until(
        lambda: (
            all(t.askGreeks for t in tickers[:2])
            and tickers[2].histVolatility > 0
            and tickers[2].dividends is not None
        )
    )
    for ticker in tickers:
        q = sim.model.quote(ticker.contract.conId, FROZEN_AT)
        assert (ticker.bid, ticker.ask, ticker.last) == (q.bid, q.ask, q.last)
        assert (ticker.bidSize, ticker.askSize, ticker.volume) == (q.bid_size, q.ask_size, q.volume)
        assert ticker.close == q.close
    tc, tp, ts = tickers
    spy_quote = sim.model.quote(spy.conId, FROZEN_AT)
    assert spy_quote.dividends is not None and ts.dividends is not None
    past, future, next_date, next_amount = spy_quote.dividends.split(",")
    assert ts.dividends.past12Months == float(past) > 0
    assert ts.dividends.next12Months == float(future) > 0
    assert ts.dividends.nextDate == datetime.strptime(next_date, "%Y%m%d").date()
    assert ts.dividends.nextAmount == float(next_amount) > 0
    assert tc.dividends is None  # tick 456 belongs to the stock
    assert tc.callOpenInterest > 0 and tp.putOpenInterest > 0
    # on the underlying, ticks 27-30 are the totals over its options (generic ticks 100, 101)
    assert (ts.callOpenInterest, ts.putOpenInterest) == spy_quote.option_open_interest
    assert (ts.callVolume, ts.putVolume) == spy_quote.option_volume
    assert min(*spy_quote.option_open_interest, *spy_quote.option_volume) > 0
    assert tc.impliedVolatility == pytest.approx(tc.modelGreeks.impliedVol)
    assert ts.histVolatility > 0
    for t in (tc, tp):
        assert t.modelGreeks and t.bidGreeks and t.askGreeks
        assert t.bidGreeks.impliedVol < t.modelGreeks.impliedVol < t.askGreeks.impliedVol
        assert t.bid < t.modelGreeks.optPrice < t.ask
    q = sim.model.quote(call.conId, FROZEN_AT)
    assert tc.modelGreeks.delta == pytest.approx(q.greeks.delta, abs=1e-6)  # type: ignore[union-attr]
    option = sim.model.option(
        "SPY", date.fromisoformat(call.lastTradeDateOrContractMonth), call.strike, "C"
    )
    assert option
    t = sim.model.time_to_expiry(option, FROZEN_AT)
    pv_div = tc.modelGreeks.pvDividend
    assert pv_div > 0  # SPY goes ex before this expiry
    s_bid, s_ask = ts.bid, ts.ask
    k = call.strike
    # American put-call bounds at executable prices: S - D - K <= C - P <= S - K e^(-rT)
    assert tc.ask - tp.bid >= s_bid - pv_div - k
    assert tc.bid - tp.ask <= s_ask - k * math.exp(-sim.model.rate * t)


async def test_stream_updates_and_cancel(sim: SimServer, connect: Connect, until: Until) -> None:
    ib, other = await connect(1), await connect(2)
    spy = Stock("SPY", "SMART", "USD")
    await ib.qualifyContractsAsync(spy)
    updates = 0

    def count(tickers: set[object]) -> None:
        nonlocal updates
        updates += len(tickers)

    ib.pendingTickersEvent += count
    ticker = ib.reqMktData(spy)
    other_ticker = other.reqMktData(spy)
    await until(lambda: updates > 5 and ticker.bid > 0 and other_ticker.bid > 0)
    assert sim.lines_in_use() == 2  # lines are counted per account, across clients
    ib.cancelMktData(spy)
    other.cancelMktData(spy)
    await until(lambda: sim.lines_in_use() == 0)


async def test_line_limit_gives_error_101(sim: SimServer, ib: IB, until: Until) -> None:
    sim.config.lines = 3
    errors: list[int] = []
    ib.errorEvent += lambda req_id, code, msg, contract: errors.append(code)
    call, put = await atm_options(ib, sim)
    contracts = [call, put, Stock("SPY", "SMART", "USD"), Stock("QQQ", "SMART", "USD")]
    await ib.qualifyContractsAsync(*contracts[2:])
    for c in contracts:
        ib.reqMktData(c)
    await until(lambda: errors.count(101) == 1)
    assert sim.lines_in_use() == 3
    snapshot = await ib.reqTickersAsync(contracts[3])  # snapshots need no line
    assert snapshot[0].bid > 0


async def test_delayed_market_data(sim: SimServer, ib: IB, until: Until) -> None:
    sim.clock.freeze(FROZEN_AT)
    spy = Stock("SPY", "SMART", "USD")
    await ib.qualifyContractsAsync(spy)
    ib.reqMarketDataType(3)
    ticker = ib.reqMktData(spy)
    await until(lambda: ticker.ask > 0)
    q = sim.model.quote(spy.conId, FROZEN_AT - timedelta(minutes=15))
    assert ticker.marketDataType == 3 and (ticker.bid, ticker.ask) == (q.bid, q.ask)


@pytest.mark.parametrize("what", ["MIDPOINT", "BID", "ASK", "BID_ASK", "TRADES"])
async def test_option_history_equals_the_model(sim: SimServer, ib: IB, what: str) -> None:
    sim.clock.freeze(FROZEN_AT)
    call, _ = await atm_options(ib, sim)
    bars = await ib.reqHistoricalDataAsync(call, "", "1 D", "5 mins", what, True, formatDate=2)
    expected = sim.model.bars(
        call.conId, duration="1 D", bar_size="5 mins", what_to_show=what, use_rth=True
    )
    assert len(bars) == len(expected) > 10
    for got, want in zip(bars, expected, strict=True):
        assert got.date == want.time
        assert (got.open, got.high, got.low, got.close) == (
            want.open,
            want.high,
            want.low,
            want.close,
        )
        assert got.low <= min(got.open, got.close) and max(got.open, got.close) <= got.high


@pytest.mark.parametrize(
    ("what", "bar_size", "duration"),
    [
        ("TRADES", "1 day", "6 M"),
        ("MIDPOINT", "1 hour", "2 W"),
        ("BID_ASK", "1 min", "3600 S"),
        ("OPTION_IMPLIED_VOLATILITY", "1 day", "1 M"),
        ("HISTORICAL_VOLATILITY", "1 day", "1 M"),
    ],
)
async def test_underlying_history_equals_the_model(
    sim: SimServer, ib: IB, what: str, bar_size: str, duration: str
) -> None:
    sim.clock.freeze(FROZEN_AT)
    spy = Stock("SPY", "SMART", "USD")
    await ib.qualifyContractsAsync(spy)
    end = datetime(2026, 11, 17, 20, 0, tzinfo=UTC)
    bars = await ib.reqHistoricalDataAsync(spy, end, duration, bar_size, what, True, formatDate=1)
    expected = sim.model.bars(
        spy.conId, end=end, duration=duration, bar_size=bar_size, what_to_show=what, use_rth=True
    )
    assert [(b.open, b.high, b.low, b.close, b.volume) for b in bars] == [
        (b.open, b.high, b.low, b.close, b.volume) for b in expected
    ]
    if bar_size == "1 day":
        assert bars[-1].date == date(2026, 11, 17)
    else:
        assert bars[-1].date == expected[-1].time  # formatDate 1: exchange time, tz-aware


async def test_expired_option_has_no_definition_and_no_history(sim: SimServer, ib: IB) -> None:
    """IB keeps no definitions for expired options (includeExpired covers futures): error 200."""
    expired_expiry = date(2026, 10, 16)
    model = sim.model
    strike = model.strikes("SPY", expired_expiry)[40]
    option = model.option("SPY", expired_expiry, strike, "C")
    assert option and model.is_expired(option)
    errors: list[int] = []
    ib.errorEvent += lambda req_id, code, msg, contract: errors.append(code)
    lookup = Option("SPY", "20261016", strike, "C", "SMART", includeExpired=True)
    assert await ib.qualifyContractsAsync(lookup) == [None]
    by_id = Contract(conId=option.con_id, secType="OPT", exchange="SMART", includeExpired=True)
    assert list(await ib.reqHistoricalDataAsync(by_id, "", "1 D", "1 min", "MIDPOINT", True)) == []
    assert errors == [200, 200]


async def test_head_timestamp(sim: SimServer, ib: IB) -> None:
    sim.clock.freeze(FROZEN_AT)
    spy = Stock("SPY", "SMART", "USD")
    await ib.qualifyContractsAsync(spy)
    head = await ib.reqHeadTimeStampAsync(spy, "TRADES", True, 2)
    assert head.date() == date(2024, 11, 18) and head.tzinfo is not None
    assert head == sim.model.head_timestamp(spy.conId, use_rth=True)
    call, _ = await atm_options(ib, sim, nth=0)
    option_head = await ib.reqHeadTimeStampAsync(call, "MIDPOINT", False, 1)
    assert option_head > head


async def test_calendar_mode_follows_the_exchange(until: Until) -> None:
    saturday = datetime(2026, 11, 21, 15, 0, tzinfo=UTC)
    clock = SimClock(saturday)
    async with SimServer(
        SimConfig(seed=7, calendar=True, update_interval=0.02), port=0, clock=clock
    ) as sim:
        ib = IB()
        await ib.connectAsync("127.0.0.1", sim.port, clientId=1)
        spy = Stock("SPY", "SMART", "USD")
        await ib.qualifyContractsAsync(spy)
        ticker = ib.reqMktData(spy)
        await until(lambda: ticker.bid > 0)
        friday_close = datetime(2026, 11, 20, 21, 0, tzinfo=UTC)
        assert ticker.bid == sim.model.quote(spy.conId, friday_close).bid
        bars = await ib.reqHistoricalDataAsync(spy, "", "1 D", "1 hour", "TRADES", False, 2)
        # useRTH=0: the extended session, 04:00-20:00 New York
        assert bars[0].date == datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
        assert len(bars) == 16 and bars[-1].date == datetime(2026, 11, 21, 0, 0, tzinfo=UTC)
        rth = await ib.reqHistoricalDataAsync(spy, "", "1 D", "1 hour", "TRADES", True, 2)
        assert rth[0].date == datetime(2026, 11, 20, 14, 30, tzinfo=UTC)
        assert len(rth) == 7 and rth[-1].date == datetime(2026, 11, 20, 20, 0, tzinfo=UTC)
        ib.disconnect()


async def test_index_options_and_local_symbols(sim: SimServer, ib: IB) -> None:
    sim.clock.freeze(FROZEN_AT)
    spx = Index("SPX", "CBOE")
    await ib.qualifyContractsAsync(spx)
    chains = await ib.reqSecDefOptParamsAsync("SPX", "", "IND", spx.conId)
    weekly = next(c for c in chains if c.exchange == "SMART" and c.tradingClass == "SPXW")
    expiry = sorted(weekly.expirations)[0]
    spot = sim.model.path("SPX").price(FROZEN_AT.timestamp())
    strike = min(weekly.strikes, key=lambda k: abs(k - spot))
    option = Option("SPX", expiry, strike, "P", "SMART", tradingClass="SPXW")
    [qualified] = await ib.qualifyContractsAsync(option)
    assert qualified and option.localSymbol.startswith("SPXW  ")
    by_local = Contract(secType="OPT", localSymbol=option.localSymbol, exchange="SMART")
    assert await ib.qualifyContractsAsync(by_local) == [by_local]
    assert by_local.conId == option.conId
    ticker, index_ticker = await ib.reqTickersAsync(option, spx)
    q = sim.model.quote(option.conId, FROZEN_AT)
    assert (ticker.bid, ticker.ask) == (q.bid, q.ask) and ticker.modelGreeks is not None
    assert index_ticker.last == sim.model.quote(spx.conId, FROZEN_AT).last


async def test_stalled_startup_still_connects(sim: SimServer) -> None:
    sim.faults.stall("startup")
    ib = IB()
    await ib.connectAsync("127.0.0.1", sim.port, clientId=4, timeout=0.5)
    assert ib.isConnected()  # like a slow gateway: ib_async logs the timeouts and goes on
    ib.disconnect()
