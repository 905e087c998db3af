"""What every connection of one simulated gateway shares: config, clock, market, lines, faults.

The server (:mod:`alc_data.ib.sim.server`) adds the sockets; sessions and request handlers see
only this object, so the dependencies point one way: gateway <- session <- requests <- server.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Protocol

from alc_data.ib.pacing import PacingTracker
from alc_data.ib.sim.clock import SimClock
from alc_data.ib.sim.config import SimConfig
from alc_data.ib.sim.core import Quote
from alc_data.ib.sim.faults import Faults
from alc_data.ib.sim.market import MarketModel
from alc_data.ib.sim.planting import PlantedOpportunity, Planter
from alc_data.ib.sim.protocol import Out
from alc_data.ib.sim.streaming import DELAY_SECONDS, Subscription

__all__ = ["TICK_SECONDS", "Gateway", "Peer", "StreamLike"]

_BUSY_NOTED = 0.005  # shorter stalls do not bunch messages up
TICK_SECONDS = 0.01  # how often the watcher task looks at the event loop


class StreamLike(Protocol):
    """A streaming request other than market data (bars, tick-by-tick, history updates, depth)."""

    def messages(self, now: datetime) -> list[bytes]:
        """What to send the client at ``now`` (nothing when nothing changed)."""
        ...


class Peer(Protocol):
    """One connected client as the gateway sees it."""

    client_id: int | None
    ready: bool
    subscriptions: dict[int, Subscription]

    @property
    def streams(self) -> Mapping[int, StreamLike]: ...

    def send(self, *fields: object) -> None: ...

    def send_raw(self, data: bytes) -> None: ...

    def abort(self) -> None: ...

    def is_congested(self) -> bool: ...


class Gateway:
    """The shared state of a simulated TWS/IB Gateway (see the module docstring).

    Args:
        config: behaviour (seed, lines, calendar, update rate, pacing).
        clock: the clock shared with the model (freeze it to compare streams with the model).
        monotonic: the seconds pacing is measured in (default: the event loop's clock); tests
            pass a clock they step, to decide pacing without waiting for it.
    """

    def __init__(
        self,
        config: SimConfig | None = None,
        clock: SimClock | None = None,
        monotonic: Callable[[], float] | None = None,
    ) -> None:
        self.config = config or SimConfig()
        self.clock = clock or SimClock()
        self.monotonic = monotonic or _loop_time
        self.model = MarketModel(
            self.config.seed,
            calendar=self.config.calendar,
            history_days=self.config.history_days,
            quote_period=self.config.update_interval,
            clock=self.clock,
        )
        self.planter: Planter | None = None
        if self.config.scenario is not None:
            start = self.config.scenario_start or self.clock.now()
            self.planter = Planter(
                self.model, self.config.scenario, start, implied=self.config.implied
            )
            self.planter.attach()
        self.faults = Faults(self)
        self.pacing = PacingTracker(self.config.pacing)
        self.sessions: set[Peer] = set()
        self._next_order_id = 1
        self._busy: deque[tuple[float, float]] = deque()  # (perf_counter at end, seconds)
        self.last_tick = time.perf_counter()

    def note_busy(self, seconds: float) -> None:
        """Record that the server could not read for ``seconds`` (a long handler or update)."""
        if seconds > _BUSY_NOTED:
            self._busy.append((time.perf_counter(), seconds))
            while len(self._busy) > 256:
                self._busy.popleft()

    def busy_since(self, since: float) -> float:
        """Seconds the event loop was blocked since ``since`` (a ``time.perf_counter()``).

        Messages a client sent meanwhile are read together afterwards, so they look faster
        than they were sent; the message-rate limit allows for it.
        """
        now = time.perf_counter()
        pending = max(0.0, now - max(self.last_tick, since) - TICK_SECONDS * 2)  # blocked now
        noted = sum(seconds for end, seconds in self._busy if end > since)
        return pending + noted

    def tick(self) -> None:
        """Called every few milliseconds by a watcher task: a late call is a busy loop."""
        now = time.perf_counter()
        self.note_busy(now - self.last_tick - TICK_SECONDS)
        self.last_tick = now

    def planted(
        self, start: datetime | None = None, end: datetime | None = None
    ) -> list[PlantedOpportunity]:
        """The opportunities planted at some instant of [start, end) (none without a scenario)."""
        return self.planter.planted(start, end) if self.planter is not None else []

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

    def publish(self) -> int:
        """Send every subscription the ticks that changed since its last update.

        Returns the number of messages sent (0 while connectivity is lost, or outside the
        session when following the calendar).
        """
        if self.faults.connectivity_lost:
            return 0
        now = self.clock.now()
        if not self.model.is_open(now):
            return 0
        quotes: dict[tuple[int, bool], Quote] = {}
        sent = 0
        for session in list(self.sessions):
            if not (session.subscriptions or session.streams) or session.is_congested():
                continue
            chunks: list[bytes] = []
            for stream in list(session.streams.values()):
                chunks.extend(stream.messages(now))
            for sub in session.subscriptions.values():
                key = (sub.con_id, sub.delayed)
                q = quotes.get(key)
                if q is None:
                    at = now - timedelta(seconds=DELAY_SECONDS) if sub.delayed else now
                    q = quotes[key] = self.model.quote(sub.con_id, at)
                chunks.extend(sub.messages(q))
            if chunks:
                session.send_raw(b"".join(chunks))
                sent += len(chunks)
        return sent


def _loop_time() -> float:
    return asyncio.get_running_loop().time()
