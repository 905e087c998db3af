"""``PacingScheduler``: sends history requests only when IB's pacing rules allow them.

Safe by construction, not by reaction:

- every request waits until :class:`~alc_data.ib.pacing.PacingTracker` says it breaks no rule;
- a request is remembered at the moment its *answer* arrives, which is never earlier than the
  moment IB received it: the scheduler's view of every window is at least as full as IB's, so
  no network delay (or slow server) can make a request look older to us than to IB;
- requests under the hard rules (bars of 30 s or less) go one at a time, so no request is ever
  in flight while another one is admitted (their send times do not matter);
- at most ``max_open`` requests are open at once (IB's limit of 50 applies to all bar sizes).

Loaders in one process that use one gateway share one scheduler (:func:`shared_scheduler`);
with a :class:`~alc_data.loader.ledger.PacingLedger` (each loader passes its own, over its own
database), hard-rule requests are also admitted through the database, so loaders in other
processes using that gateway are counted too (the ledger runs on the database server's clock).

Time comes from a :class:`PacingClock` (the event loop's by default); tests pass one they step,
shared with the simulator, so that what the scheduler decides does not depend on how fast the
machine happens to be. (The ledger's waits are real seconds on the database's clock: a loader
on a stepped clock turns ``LoaderConfig.pacing_ledger`` off.)

Retrying after a 162 or a timeout is the caller's business (:mod:`alc_data.loader.fetch`); the
scheduler only counts how often it had to make a request wait.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import weakref
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Protocol

from alc_data.errors import ConfigError
from alc_data.ib.pacing import HistoricalRequestKey, PacingRules, PacingTracker
from alc_data.loader.ledger import PacingLedger

__all__ = ["LoopClock", "PacingClock", "PacingCounts", "PacingScheduler", "shared_scheduler"]

log = logging.getLogger(__name__)


class PacingClock(Protocol):
    """Where the scheduler reads the time (seconds, monotonic) and how it waits."""

    def now(self) -> float:
        """The current time in seconds."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Wait ``seconds``."""
        ...


class LoopClock:
    """The running event loop's clock (the default)."""

    def now(self) -> float:
        """``loop.time()``."""
        return asyncio.get_running_loop().time()

    async def sleep(self, seconds: float) -> None:
        """``asyncio.sleep``."""
        await asyncio.sleep(seconds)


@dataclass
class PacingCounts:
    """What a scheduler did for one caller: requests sent, and how many of them had to wait."""

    sent: int = 0
    waits: int = 0


class PacingScheduler:
    """Admits history requests at the pace IB allows (see the module docstring).

    Usage::

        async with scheduler.slot(key):
            bars = await ib.reqHistoricalDataAsync(...)
    """

    def __init__(self, rules: PacingRules | None = None, *, clock: PacingClock | None = None):
        self.rules = rules or PacingRules()
        self.clock: PacingClock = clock or LoopClock()
        self._told: set[str] = set()
        self._tracker = PacingTracker(self.rules)
        self._hard = asyncio.Lock()
        self._closed = asyncio.Event()
        self._totals = PacingCounts()

    @property
    def waits(self) -> int:
        """Requests that had to wait before being sent (every caller together)."""
        return self._totals.waits

    @property
    def sent(self) -> int:
        """Requests admitted (sent), every caller together."""
        return self._totals.sent

    @property
    def open_requests(self) -> int:
        """Requests admitted and not yet answered."""
        return self._tracker.open_requests

    @contextlib.asynccontextmanager
    async def slot(
        self,
        key: HistoricalRequestKey,
        counts: PacingCounts | None = None,
        ledger: PacingLedger | None = None,
    ) -> AsyncIterator[None]:
        """Wait until ``key`` may be sent; the body sends it and awaits the answer.

        ``counts`` (if given) is incremented as well as the scheduler's totals: how one of
        several loaders sharing this scheduler reports its own requests and waits. With a
        ``ledger``, a hard-rule request is also admitted through it (other processes).
        """
        tallies = [self._totals] if counts is None else [self._totals, counts]
        hard = self.rules.is_hard(key.bar_size)
        if hard:
            await self._hard.acquire()
        try:
            waited = await self._wait_turn(key)
            entry = None
            if hard and ledger is not None:
                entry, shared_wait = await self._admit(ledger, key)
                waited = waited or shared_wait
            for tally in tallies:
                tally.waits += int(waited)
                tally.sent += 1
            self._tracker.opened()
            try:
                yield
            finally:
                self._answered(key, hard)
                if entry is not None and ledger is not None:
                    await asyncio.shield(ledger.answered(entry))
        finally:
            if hard:
                self._hard.release()

    async def _admit(self, ledger: PacingLedger, key: HistoricalRequestKey) -> tuple[int, bool]:
        """Admission through the ledger: the entry id, and whether it meant waiting."""
        waited = False
        while (admission := await ledger.admit(key)).entry is None:
            waited = True
            blocker = admission.blocker
            if blocker is not None and blocker not in self._told:
                self._told.add(blocker)
                log.warning(
                    "IB gateway %s is also used by loader %s: waiting for its history "
                    "requests (IB's pacing limits hold per gateway)",
                    ledger.gateway,
                    blocker,
                )
            await asyncio.sleep(admission.wait)  # the ledger's waits are in real seconds
        return admission.entry, waited

    def _answered(self, key: HistoricalRequestKey, hard: bool) -> None:
        if hard:  # soft requests never make a hard one wait: no need to remember them
            self._tracker.record(key, self.clock.now())
        self._tracker.closed()
        self._closed.set()

    async def _wait_turn(self, key: HistoricalRequestKey) -> bool:
        """Wait until ``key`` breaks no rule; True if that meant waiting."""
        waited = False
        while (wait := self._tracker.wait_time(key, self.clock.now())) > 0:
            waited = True
            if math.isinf(wait):  # max_open reached: wait for an answer
                self._closed.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._closed.wait(), timeout=1.0)
            else:
                await self.clock.sleep(wait)
        return waited


_Registry = weakref.WeakValueDictionary[str, "PacingScheduler"]
_SHARED: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Registry] = (
    weakref.WeakKeyDictionary()
)


def shared_scheduler(gateway: str, rules: PacingRules) -> PacingScheduler:
    """The scheduler of ``gateway`` in this event loop, created on first use.

    It lives as long as a loader holds it (a later loader of that gateway, once every earlier
    one is gone, starts afresh; the ledger still remembers the requests).

    Raises:
        ConfigError: a living scheduler of the gateway has other pacing rules.
    """
    per_loop = _SHARED.setdefault(asyncio.get_running_loop(), weakref.WeakValueDictionary())
    scheduler = per_loop.get(gateway)
    if scheduler is None:
        scheduler = PacingScheduler(rules)
        per_loop[gateway] = scheduler
    elif scheduler.rules != rules:
        raise ConfigError(
            f"loaders of IB gateway {gateway} must share its pacing rules: "
            f"{scheduler.rules} is in use, {rules} was asked for"
        )
    return scheduler
