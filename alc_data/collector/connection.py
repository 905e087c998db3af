"""Staying connected to IB: reconnect with backoff, and a record of every gap in the data.

A *gap* is an interval in which the collector could not receive market data:

- the socket to TWS / IB Gateway dropped (``disconnectedEvent``): the gap lasts until the
  reconnect succeeded (the lines are then requested again);
- IB reported lost connectivity (error 1100) until it reported it restored (1101 "data lost":
  every line is requested again; 1102 "data maintained").

Gaps are kept in :attr:`ConnectionKeeper.gaps` (shown by ``get_stats()['gaps']``) and stored
as ``data_quality_metrics`` rows (``metric_type='collector_gap'``, ``rule`` the cause,
``severity='warning'``, ``metric_value`` the seconds, ``details`` start/end/reason/run), so a
backtest can tell an outage from a quiet market. (``market_events`` only admits exchange
events: holidays, halts.) A gap that cannot be stored because the database is down is kept
and stored later.
"""

from __future__ import annotations

import asyncio
import logging
import random
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from alc_data.db.database import Database
from alc_data.ib.codes import IBCode
from alc_data.ib.gateway import MarketDataGateway
from alc_data.repositories import DataQualityRepository

__all__ = ["ConnectionKeeper", "Gap"]

log = logging.getLogger(__name__)

CONNECTIVITY_LOST = IBCode.CONNECTIVITY_LOST
RESTORED_DATA_LOST = IBCode.RESTORED_DATA_LOST


@dataclass
class Gap:
    """An interval without market data."""

    start: datetime
    reason: str
    end: datetime | None = None
    stored: bool = False

    @property
    def seconds(self) -> float:
        """Length so far (to now while open)."""
        return ((self.end or datetime.now(UTC)) - self.start).total_seconds()

    def as_dict(self) -> dict[str, Any]:
        """JSON-friendly view."""
        return {
            "start": self.start.isoformat(),
            "end": self.end.isoformat() if self.end else None,
            "seconds": round(self.seconds, 3),
            "reason": self.reason,
        }


class ConnectionKeeper:
    """Reconnects ``ib`` after a drop and records gaps (see the module doc).

    Args:
        ib: the ib_async ``IB`` client.
        db: where gaps are stored.
        run_id: the collector run, stored with each gap.
        on_reconnected: awaited after each successful reconnect (resubscribes).
        initial / maximum: the backoff bounds in seconds (doubling, with jitter).
    """

    def __init__(
        self,
        ib: MarketDataGateway,
        db: Database,
        *,
        run_id: uuid.UUID,
        on_reconnected: Callable[[], Awaitable[None]],
        initial: float = 0.5,
        maximum: float = 30.0,
    ) -> None:
        self.ib = ib
        self.db = db
        self.run_id = run_id
        self.on_reconnected = on_reconnected
        self.initial = initial
        self.maximum = maximum
        self.gaps: list[Gap] = []
        self.reconnects = 0
        self.reconnect_attempts = 0
        self.open_gap: Gap | None = None
        self.stopping = False
        self.errors: dict[str, int] = {}
        self.last_error: str | None = None
        self._task: asyncio.Task[None] | None = None

    @property
    def connected(self) -> bool:
        """True while the socket is up and no gap is open."""
        return self.ib.is_connected() and self.open_gap is None

    # events -------------------------------------------------------------------------------

    def on_disconnected(self) -> None:
        """``disconnectedEvent``: open a gap and start reconnecting."""
        if self.stopping:
            return
        self._open("IB connection dropped")
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._reconnect())

    def on_connectivity(self, code: int) -> bool:
        """Error 1100/1101/1102; returns True when every line must be requested again."""
        if code == CONNECTIVITY_LOST:
            self._open("IB connectivity lost (1100)")
            return False
        self._close()
        return code == RESTORED_DATA_LOST

    def _open(self, reason: str) -> None:
        if self.open_gap is None:
            self.open_gap = Gap(datetime.now(UTC), reason)
            self.gaps.append(self.open_gap)
            log.warning("market data gap started: %s", reason)

    def _close(self) -> None:
        gap, self.open_gap = self.open_gap, None
        if gap is not None:
            gap.end = datetime.now(UTC)
            log.warning("market data gap ended after %.1f s (%s)", gap.seconds, gap.reason)

    # reconnecting -----------------------------------------------------------------------

    async def _reconnect(self) -> None:
        """Reconnect, then resubscribe (``on_reconnected``); a resubscription that raises is
        counted, logged and tried again with the same backoff, and the gap stays open until
        one succeeds."""
        delay = self.initial
        while not self.stopping:
            if not self.ib.is_connected():
                await asyncio.sleep(delay * (0.8 + 0.4 * random.random()))
                if self.stopping:
                    return
                self.reconnect_attempts += 1
                try:
                    await self.ib.reconnect(handshake_within=10)
                except Exception as exc:  # refused, timed out, client id in use ...
                    log.info("reconnect failed (%r); next try in %.1f s", exc,
                             min(delay * 2, self.maximum))  # fmt: skip
                    delay = min(delay * 2, self.maximum)
                    continue
                self.reconnects += 1
            try:
                await self.on_reconnected()
            except Exception as exc:
                kind = f"reconnect:resubscribe:{type(exc).__name__}"
                self.errors[kind] = self.errors.get(kind, 0) + 1
                self.last_error = f"resubscribing after a reconnect failed: {exc!r}"
                if self.errors[kind] == 1:
                    log.error("%s; trying again", self.last_error, exc_info=exc)
                await asyncio.sleep(delay)
                delay = min(delay * 2, self.maximum)
                continue
            self._close()
            return

    async def stop(self) -> None:
        """Stop reconnecting; close the open gap (it ends with the collection)."""
        self.stopping = True
        if self._task is not None and not self._task.done():
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        self._close()

    # storing gaps -------------------------------------------------------------------------

    async def store_gaps(self) -> None:
        """Store the closed gaps not stored yet (quietly retried later if the database is
        down)."""
        pending = [g for g in self.gaps if g.end is not None and not g.stored]
        if not pending:
            return
        try:
            async with self.db.session() as session:
                repo = DataQualityRepository(session)
                for gap in pending:
                    await repo.record(
                        "collector_gap",
                        run_id=self.run_id,
                        metric_value=gap.seconds,
                        severity="warning",
                        rule="ib_connection",
                        passed=False,
                        details={**gap.as_dict(), "run_id": str(self.run_id)},
                        check_timestamp=gap.end,
                    )
        except Exception as exc:
            log.info("gaps not stored yet (%r); will retry", exc)
            return
        for gap in pending:
            gap.stored = True
