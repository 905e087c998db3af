"""The simulator's asyncio TCP server: accepts ib_async clients and streams market data.

Usage in a test::

    async with SimServer(SimConfig(seed=7), port=0) as sim:
        ib = await IB().connectAsync("127.0.0.1", sim.port, clientId=1)
        sim.model.quote(con_id, sim.model.now())
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

from alc_data.ib.sim.clock import SimClock
from alc_data.ib.sim.config import SimConfig
from alc_data.ib.sim.gateway import TICK_SECONDS, Gateway
from alc_data.ib.sim.requests import HANDLERS
from alc_data.ib.sim.session import ClientSession

__all__ = ["SimConfig", "SimServer"]

_log = logging.getLogger("alc_data.ib.sim")


class SimServer(Gateway):
    """A TWS/IB Gateway stand-in speaking the API wire protocol over real sockets.

    Args:
        config: behaviour (seed, lines, calendar, update rate, pacing).
        host: interface to listen on.
        port: TCP port; 0 picks a free one (read :attr:`port` after :meth:`start`).
        clock: the clock shared with the model (freeze it to compare streams with the model).
        monotonic: the seconds pacing is measured in (default: the event loop's clock).
    """

    def __init__(
        self,
        config: SimConfig | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 7497,
        clock: SimClock | None = None,
        monotonic: Callable[[], float] | None = None,
    ) -> None:
        super().__init__(config, clock, monotonic)
        self.host = host
        self._port = port
        self._server: asyncio.Server | None = None
        self._stream_task: asyncio.Task[None] | None = None
        self._watch_task: asyncio.Task[None] | None = None

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
        self._watch_task = asyncio.create_task(self._watch_loop(), name="sim-watch")
        _log.debug("IB simulator listening on %s:%d", self.host, self.port)

    async def stop(self) -> None:
        """Close every connection and stop listening."""
        for task in (self._stream_task, self._watch_task):
            if task is not None:
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
        self._stream_task = self._watch_task = None
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
        session = ClientSession(self, reader, writer, HANDLERS)
        self.sessions.add(session)
        try:
            await session.run()
        finally:
            self.sessions.discard(session)
            session.close()

    async def _watch_loop(self) -> None:
        """Notice when the event loop is blocked (messages then arrive bunched up)."""
        self.last_tick = time.perf_counter()
        while True:
            await asyncio.sleep(TICK_SECONDS)
            self.tick()

    async def _stream_loop(self) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time()
        while True:
            deadline = max(deadline + self.config.update_interval, loop.time())
            await asyncio.sleep(deadline - loop.time())
            started = time.perf_counter()
            late = max(loop.time() - deadline, 0.0)
            try:
                self.publish()
            except Exception:
                _log.exception("market-data update failed")
            finally:
                self.note_busy(late + time.perf_counter() - started)
