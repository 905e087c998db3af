"""IB's official Python client (``ibapi-stable``, versions 100-226) against the simulator."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest

from alc_data.ib.sim import SimServer

ibapi_client = pytest.importorskip("ibapi.client")
ibapi_wrapper = pytest.importorskip("ibapi.wrapper")
from ibapi.contract import Contract  # noqa: E402

pytestmark = pytest.mark.timeout(60)


class Recorder(ibapi_wrapper.EWrapper, ibapi_client.EClient):  # type: ignore[misc]
    """Collects what arrives, by callback name; ``wait_for`` blocks until a name has arrived."""

    def __init__(self) -> None:
        ibapi_wrapper.EWrapper.__init__(self)
        ibapi_client.EClient.__init__(self, self)
        self.seen: dict[str, list[tuple[Any, ...]]] = {}
        self.changed = threading.Condition()

    def _record(self, name: str, *args: Any) -> None:
        with self.changed:
            self.seen.setdefault(name, []).append(args)
            self.changed.notify_all()

    def wait_for(self, name: str, count: int = 1, timeout: float = 10.0) -> list[tuple[Any, ...]]:
        with self.changed:
            self.changed.wait_for(lambda: len(self.seen.get(name, [])) >= count, timeout)
        return self.seen.get(name, [])

    def nextValidId(self, orderId: int) -> None:
        self._record("nextValidId", orderId)

    def contractDetails(self, reqId: int, contractDetails: Any) -> None:
        self._record("contractDetails", reqId, contractDetails)

    def tickPrice(self, reqId: int, tickType: int, price: float, attrib: Any) -> None:
        self._record("tickPrice", reqId, tickType, price)

    def marketRule(self, marketRuleId: int, priceIncrements: Any) -> None:
        self._record("marketRule", marketRuleId, priceIncrements)

    def symbolSamples(self, reqId: int, contractDescriptions: Any) -> None:
        self._record("symbolSamples", reqId, contractDescriptions)

    def historicalTicksBidAsk(self, reqId: int, ticks: Any, done: bool) -> None:
        self._record("historicalTicksBidAsk", reqId, ticks, done)

    def error(self, reqId: int, *args: Any) -> None:
        codes = [a for a in args if isinstance(a, int) and 100 <= a < 100_000]
        self._record("error", reqId, codes[0] if codes else None)


def _spy() -> Contract:
    c = Contract()
    c.symbol, c.secType, c.exchange, c.currency = "SPY", "STK", "SMART", "USD"
    return c


def _session(port: int) -> tuple[Recorder, threading.Thread]:
    app = Recorder()
    app.connect("127.0.0.1", port, 5)
    thread = threading.Thread(target=app.run, daemon=True)
    thread.start()
    return app, thread


async def test_the_official_client_negotiates_178_and_is_answered(sim: SimServer) -> None:
    app, thread = await asyncio.to_thread(_session, sim.port)
    try:
        assert await asyncio.to_thread(app.wait_for, "nextValidId")
        assert app.serverVersion() == 178  # its range is 100-226; the highest common is ours
        app.reqContractDetails(1, _spy())
        (details,) = [d for _r, d in await asyncio.to_thread(app.wait_for, "contractDetails")]
        assert details.contract.conId == 756733 and details.longName == "SPDR S&P 500 ETF TRUST"
        app.reqMktData(2, _spy(), "", False, False, [])
        ticks = await asyncio.to_thread(app.wait_for, "tickPrice", 2)
        assert any(t[1] == 1 and t[2] > 0 for t in ticks)  # a bid
        app.reqMarketRule(26)
        ((rule, increments),) = await asyncio.to_thread(app.wait_for, "marketRule")
        assert rule == 26 and increments[0].increment == 0.01
        app.reqMatchingSymbols(3, "IWM")
        ((_, found),) = await asyncio.to_thread(app.wait_for, "symbolSamples")
        assert [d.contract.symbol for d in found] == ["IWM"]
        app.reqHistoricalTicks(
            4, _spy(), "", "20261125 15:00:00 US/Eastern", 10, "BID_ASK", 1, True, []
        )
        (history,) = await asyncio.to_thread(app.wait_for, "historicalTicksBidAsk")
        assert 0 < len(history[1]) <= 10 and history[2] is True
        before = len(app.seen.get("error", []))
        app.cancelMktData(99)
        errors = await asyncio.to_thread(app.wait_for, "error", before + 1)
        assert (99, 300) in errors
    finally:
        app.disconnect()
        await asyncio.to_thread(thread.join, 5)
