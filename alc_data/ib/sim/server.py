"""The simulator's asyncio TCP server: accepts ib_async clients and streams market data.

Usage in a test::

    async with SimServer(SimConfig(seed=7), port=0) as sim:
        ib = await IB().connectAsync("127.0.0.1", sim.port, clientId=1)
        sim.model.quote(con_id, sim.model.now())
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import timedelta

from alc_data.ib.pacing import PacingRules, PacingTracker
from alc_data.ib.sim.clock import SimClock
from alc_data.ib.sim.faults import Faults
from alc_data.ib.sim.model import MarketModel, Quote
from alc_data.ib.sim.protocol import Out
from alc_data.ib.sim.session import ClientSession
from alc_data.ib.sim.streaming import DELAY_SECONDS

__all__ = ["SimConfig", "SimServer"]

_log = logging.getLogger("alc_data.ib.sim")


@dataclass
class SimConfig:
    """How the simulated gateway behaves.

    Attributes:
        seed: the market model's seed (same seed, same data).
        lines: market-data lines for the whole account (IB's default is 100); one more
            subscription gets error 101.
        calendar: follow the NYSE calendar instead of an always-open market.
        history_days: history depth (default two years).
        update_interval: seconds between market-data updates.
        greeks_interval: at most one option-computation update per subscription this often
            (IB throttles greeks more than quotes).
        account: the managed account reported at start-up.
        pacing: the historical-data pacing rules enforced with error 162.
    """

    seed: int = 1
    lines: int = 100
    calendar: bool = False
    history_days: int = 730
    update_interval: float = 0.25
    greeks_interval: float = 0.25
    account: str = "DU1234567"
    pacing: PacingRules = field(default_factory=PacingRules)


class SimServer:
    """A TWS/IB Gateway stand-in speaking the API wire protocol over real sockets.

    Args:
        config: behaviour (seed, lines, calendar, update rate, pacing).
        host: interface to listen on.
        port: TCP port; 0 picks a free one (read :attr:`port` after :meth:`start`).
        clock: the clock shared with the model (freeze it to compare streams with the model).
    """

    def __init__(self, config: SimConfig | None = None, *, host: str = "127.0.0.1",
                 port: int = 7497, clock: SimClock | None = None) -> None:
        self.config = config or SimConfig()
        self.host = host
        self._port = port
        self.clock = clock or SimClock()
        self.model = MarketModel(self.config.seed, calendar=self.config.calendar,
                                 history_days=self.config.history_days,
                                 quote_period=self.config.update_interval, clock=self.clock)
        self.faults = Faults(self)
        self.pacing = PacingTracker(self.config.pacing)
        self.sessions: set[ClientSession] = set()
        self._server: asyncio.Server | None = None
        self._stream_task: asyncio.Task[None] | None = None
        self._next_order_id = 1

    @property
    def port(self) -> int:
        """The port actually listened on."""
        if self._server is not None and self._server.sockets:
            return int(self._server.sockets[0].getsockname()[1])
        return self._port

    async def start(self) -> None:
        """Listen and start the market-data loop."""
        self._server = await asyncio.start_server(self._accept, self.host, self._port)
        self._stream_task = asyncio.create_task(self._stream_loop(), name="sim-stream")
        _log.info("IB simulator ready on %s:%d (seed %d, %d lines, %s)", self.host, self.port,
                  self.config.seed, self.config.lines,
                  "NYSE calendar" if self.config.calendar else "always open")

    async def stop(self) -> None:
        """Close every connection and stop listening."""
        if self._stream_task is not None:
            self._stream_task.cancel()
            await asyncio.gather(self._stream_task, return_exceptions=True)
            self._stream_task = None
        await self.drop_connections(None)
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    async def serve_forever(self) -> None:
        """Run until cancelled."""
        if self._server is None:
            await self.start()
        assert self._server is not None
        await self._server.serve_forever()

    async def __aenter__(self) -> SimServer:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        session = ClientSession(self, reader, writer)
        self.sessions.add(session)
        try:
            await session.run()
        finally:
            self.sessions.discard(session)
            session.close()

    # --- shared state --------------------------------------------------------------------

    def client_id_in_use(self, client_id: int) -> bool:
        """True when another connected session already uses ``client_id``."""
        return any(s.client_id == client_id for s in self.sessions)

    def lines_in_use(self) -> int:
        """Streaming subscriptions across all clients (IB counts lines per account)."""
        return sum(len(s.subscriptions) for s in self.sessions)

    def next_order_id(self) -> int:
        """A fresh order id for nextValidId."""
        self._next_order_id += 1
        return self._next_order_id

    async def drop_connections(self, client_id: int | None) -> None:
        """Abruptly close connections (all, or the one with ``client_id``)."""
        for session in list(self.sessions):
            if client_id is None or session.client_id == client_id:
                session.abort()
        await asyncio.sleep(0)

    def broadcast_error(self, code: int, message: str) -> None:
        """Send an error/notice with reqId -1 to every connected client."""
        for session in list(self.sessions):
            if session.ready:
                session.send(Out.ERR_MSG, 2, -1, code, message, "")

    def drop_subscriptions(self) -> None:
        """Forget every market-data subscription (what a 1101 'data lost' means)."""
        for session in self.sessions:
            session.subscriptions.clear()

    # --- streaming ----------------------------------------------------------------------

    async def _stream_loop(self) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time()
        while True:
            deadline = max(deadline + self.config.update_interval, loop.time())
            await asyncio.sleep(deadline - loop.time())
            try:
                self.publish()
            except Exception:
                _log.exception("market-data update failed")

    def publish(self) -> None:
        """Send every subscription the ticks that changed since its last update."""
        if self.faults.connectivity_lost:
            return
        now = self.clock.now()
        if not self.model.is_open(now):
            return
        quotes: dict[tuple[int, bool], Quote] = {}
        for session in list(self.sessions):
            if not session.subscriptions or session.is_congested():
                continue
            chunks: list[bytes] = []
            for sub in session.subscriptions.values():
                key = (sub.con_id, sub.delayed)
                q = quotes.get(key)
                if q is None:
                    at = now - timedelta(seconds=DELAY_SECONDS) if sub.delayed else now
                    q = quotes[key] = self.model.quote(sub.con_id, at)
                chunks.extend(sub.messages(q))
            if chunks:
                session.send_raw(b"".join(chunks))

