"""``PacingScheduler``: sends history requests only when IB's pacing rules allow them.

Safe by construction, not by reaction:

- every request waits until :class:`~alc_data.ib.pacing.PacingTracker` says it breaks no rule;
- a request is remembered at the moment its *answer* arrives, which is never earlier than the
  moment IB received it: the scheduler's view of every window is at least as full as IB's, so
  no network delay (or slow server) can make a request look older to us than to IB;
- requests under the hard rules (bars of 30 s or less) go one at a time, so no request is ever
  in flight while another one is admitted (their send times do not matter);
- at most ``max_open`` requests are open at once (IB's limit of 50 applies to all bar sizes).

Time comes from a :class:`PacingClock` (the event loop's by default); tests pass one they step,
shared with the simulator, so that what the scheduler decides does not depend on how fast the
machine happens to be.

Retrying after a 162 or a timeout is the caller's business (:mod:`alc_data.loader.fetch`); the
scheduler only counts how often it had to make a request wait.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Protocol

from alc_data.ib.pacing import HistoricalRequestKey, PacingRules, PacingTracker

__all__ = ["LoopClock", "PacingClock", "PacingCounts", "PacingScheduler"]


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
        self, key: HistoricalRequestKey, counts: PacingCounts | None = None
    ) -> AsyncIterator[None]:
        """Wait until ``key`` may be sent; the body sends it and awaits the answer.

        ``counts`` (if given) is incremented as well as the scheduler's totals: how one of
        several loaders sharing this scheduler reports its own requests and waits.
        """
        tallies = [self._totals] if counts is None else [self._totals, counts]
        hard = self.rules.is_hard(key.bar_size)
        if hard:
            await self._hard.acquire()
        try:
            if await self._wait_turn(key):
                for tally in tallies:
                    tally.waits += 1
            self._tracker.opened()
            for tally in tallies:
                tally.sent += 1
            try:
                yield
            finally:
                self._answered(key, hard)
        finally:
            if hard:
                self._hard.release()

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
