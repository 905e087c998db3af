"""``PacingScheduler``: sends history requests only when IB's pacing rules allow them.

Safe by construction, not by reaction:

- every request waits until :class:`~alc_data.ib.pacing.PacingTracker` says it breaks no rule;
- a request is remembered at the moment its *answer* arrives, which is never earlier than the
  moment IB received it: the scheduler's view of every window is at least as full as IB's, so
  no network delay (or slow server) can make a request look older to us than to IB;
- requests under the hard rules (bars of 30 s or less) go one at a time, so no request is ever
  in flight while another one is admitted (their send times do not matter);
- at most ``max_open`` requests are open at once (IB's limit of 50 applies to all bar sizes).

Retrying after a 162 or a timeout is the caller's business (:mod:`alc_data.loader.fetch`); the
scheduler only counts how often it had to make a request wait.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
from collections.abc import AsyncIterator

from alc_data.ib.pacing import HistoricalRequestKey, PacingRules, PacingTracker

__all__ = ["PacingScheduler"]


class PacingScheduler:
    """Admits history requests at the pace IB allows (see the module docstring).

    Usage::

        async with scheduler.slot(key):
            bars = await ib.reqHistoricalDataAsync(...)
    """

    def __init__(self, rules: PacingRules | None = None) -> None:
        self.rules = rules or PacingRules()
        self._tracker = PacingTracker(self.rules)
        self._hard = asyncio.Lock()
        self._closed = asyncio.Event()
        #: Requests that had to wait before being sent.
        self.waits = 0
        #: Requests admitted (sent).
        self.sent = 0

    @property
    def open_requests(self) -> int:
        """Requests admitted and not yet answered."""
        return self._tracker.open_requests

    @contextlib.asynccontextmanager
    async def slot(self, key: HistoricalRequestKey) -> AsyncIterator[None]:
        """Wait until ``key`` may be sent; the body sends it and awaits the answer."""
        hard = self.rules.is_hard(key.bar_size)
        if hard:
            await self._hard.acquire()
        try:
            await self._wait_turn(key)
            self._tracker.opened()
            self.sent += 1
            try:
                yield
            finally:
                self._answered(key, hard)
        finally:
            if hard:
                self._hard.release()

    def _answered(self, key: HistoricalRequestKey, hard: bool) -> None:
        if hard:  # soft requests never make a hard one wait: no need to remember them
            self._tracker.record(key, _now())
        self._tracker.closed()
        self._closed.set()

    async def _wait_turn(self, key: HistoricalRequestKey) -> None:
        waited = False
        while (wait := self._tracker.wait_time(key, _now())) > 0:
            waited = True
            if math.isinf(wait):  # max_open reached: wait for an answer
                self._closed.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._closed.wait(), timeout=1.0)
            else:
                await asyncio.sleep(wait)
        if waited:
            self.waits += 1


def _now() -> float:
    return asyncio.get_running_loop().time()
