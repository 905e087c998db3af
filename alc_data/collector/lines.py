"""The market-data line budget: which contracts hold a line now, fair rotation, coverage.

IB allows a fixed number of concurrent market-data lines (100 by default). The collector
never asks for more than its budget:

- *pinned* keys (the underlyings) always hold a line;
- the remaining capacity goes to the options. When they all fit, they all stay subscribed.
  Otherwise they *rotate*: a contract holds its line for ``dwell`` seconds, then gives it to
  the contract that has waited longest (first-in, first-out over a ring in the universe's
  order, nearest the money first). Every contract gets the same share of line-time,
  ``capacity / universe``, and is visited once per cycle of ``universe / capacity * dwell``;
- a contract IB refused (error 354, not subscribed) waits ``retry_after`` seconds (doubling
  up to ten minutes) before it is asked for again; one IB does not know (error 200) is dropped
  until the next discovery; error 101 (no line free, e.g. another client holds lines) shrinks
  the capacity by one until the next universe change.

Coverage per contract: subscriptions, seconds subscribed, rows stored, first and last row.
This module is pure bookkeeping (no IB calls): :meth:`LineScheduler.plan` says what to cancel
and what to subscribe, the caller does it.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Hashable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from alc_data.ib.codes import IBCode

__all__ = ["Coverage", "LineScheduler"]

K = TypeVar("K", bound=Hashable)
MAX_RETRY_SECONDS = 600.0


@dataclass
class Coverage:
    """How well one contract has been covered so far."""

    subscriptions: int = 0
    seconds_subscribed: float = 0.0
    rows: int = 0
    first_row: datetime | None = None
    last_row: datetime | None = None
    subscribed_at: float | None = None
    refusals: int = 0

    def as_dict(self, now: float) -> dict[str, Any]:
        """JSON-friendly view (seconds include the current subscription)."""
        live = now - self.subscribed_at if self.subscribed_at is not None else 0.0
        return {
            "subscriptions": self.subscriptions,
            "seconds_subscribed": round(self.seconds_subscribed + live, 3),
            "rows": self.rows,
            "first_row": self.first_row.isoformat() if self.first_row else None,
            "last_row": self.last_row.isoformat() if self.last_row else None,
            "refusals": self.refusals,
        }


class LineScheduler(Generic[K]):
    """Decides which keys hold the ``budget`` market-data lines (see the module doc).

    Args:
        budget: lines this collector may use.
        dwell: seconds a rotating contract keeps its line.
        retry_after: first wait before a refused (354) contract is asked for again.
    """

    def __init__(self, budget: int, *, dwell: float = 5.0, retry_after: float = 30.0) -> None:
        if budget < 1:
            raise ValueError("the line budget must be at least 1")
        self.budget = budget
        self.dwell = dwell
        self.retry_after = retry_after
        self.pinned: list[K] = []
        self.options: list[K] = []
        self.coverage: dict[K, Coverage] = {}
        self.active: dict[K, float] = {}  # key -> subscribed since (monotonic seconds)
        self.rotations = 0
        self.line_refusals = 0
        self.dropped: set[K] = set()
        self._waiting: deque[K] = deque()
        self._retry: dict[K, tuple[float, float]] = {}  # key -> (retry at, current wait)
        self._shrink = 0
        self._option_set: set[K] = set()

    # the universe -------------------------------------------------------------------------

    @property
    def capacity(self) -> int:
        """Lines available to options."""
        return max(0, self.budget - len(self.pinned) - self._shrink)

    @property
    def rotating(self) -> bool:
        """True when the options do not all fit in the capacity."""
        return len(self._eligible_options()) > self.capacity

    def set_universe(self, pinned: Iterable[K], options: Iterable[K]) -> None:
        """Replace the universe; keys that left it are cancelled by the next :meth:`plan`."""
        pinned = list(dict.fromkeys(pinned))
        if len(pinned) > self.budget:
            raise ValueError(f"{len(pinned)} underlyings need more than {self.budget} lines")
        self.pinned = pinned
        self.options = [k for k in dict.fromkeys(options) if k not in set(pinned)]
        self._option_set = set(self.options)
        self.dropped.clear()
        self._shrink = 0
        known = set(self.options)
        kept = [k for k in self._waiting if k in known]
        queued = set(kept)
        new = [k for k in self.options if k not in self.active and k not in queued]
        self._waiting = deque(kept + new)
        for key in (*pinned, *self.options):
            self.coverage.setdefault(key, Coverage())

    def _eligible_options(self) -> list[K]:
        return [k for k in self.options if k not in self.dropped]

    # planning -----------------------------------------------------------------------------

    def plan(self, now: float) -> tuple[list[K], list[K]]:
        """(keys to cancel, keys to subscribe) at monotonic time ``now``; the caller must
        report each outcome with :meth:`subscribed`, :meth:`cancelled` or :meth:`refused`."""
        pinned = set(self.pinned)
        wanted = pinned | set(self._eligible_options())
        cancel = [k for k in self.active if k not in wanted]
        held = [k for k in self.active if k in wanted and k not in pinned]
        if self.rotating:
            expired = sorted((k for k in held if now - self.active[k] >= self.dwell),
                             key=lambda k: self.active[k])  # fmt: skip
            cancel += expired
            if expired:
                self.rotations += 1
        going = set(cancel)
        staying = [k for k in held if k not in going]
        over = len(staying) - self.capacity
        if over > 0:  # the capacity shrank: give back the newest lines
            staying.sort(key=lambda k: self.active[k])
            cancel += staying[len(staying) - over :]
            staying = staying[: len(staying) - over]
        subscribe = [
            k for k in self.pinned if k not in self.active and self.retry_pinned_at(k) <= now
        ]
        free = self.capacity - len(staying)
        subscribe += self._next_waiting(free, now, exclude=set(staying))
        return cancel, subscribe

    def _next_waiting(self, free: int, now: float, *, exclude: set[K]) -> list[K]:
        chosen: list[K] = []
        skipped: list[K] = []
        while self._waiting and len(chosen) < free:
            key = self._waiting.popleft()
            if key in exclude or key in self.dropped or key not in self._option_set:
                continue
            retry = self._retry.get(key)
            if retry is not None and retry[0] > now:
                skipped.append(key)
                continue
            chosen.append(key)
        self._waiting.extendleft(reversed(skipped))
        return chosen

    # outcomes -----------------------------------------------------------------------------

    def subscribed(self, key: K, now: float) -> None:
        """``key`` now holds a line."""
        self.active[key] = now
        cov = self.coverage.setdefault(key, Coverage())
        cov.subscriptions += 1
        cov.subscribed_at = now

    def cancelled(self, key: K, now: float) -> None:
        """``key`` gave its line back; it waits for its next turn at the end of the queue."""
        self._release(key, now)
        if key in self._option_set and key not in self.dropped:
            self._waiting.append(key)

    def refused(self, key: K, now: float, *, code: int) -> None:
        """IB refused ``key``'s market data with error ``code`` (101, 200, 354, ...)."""
        self._release(key, now)
        self.coverage.setdefault(key, Coverage()).refusals += 1
        if code == IBCode.NO_SECURITY_DEFINITION:
            self.dropped.add(key)
            return
        if code == IBCode.MAX_TICKERS:
            self.line_refusals += 1
            self._shrink = min(self._shrink + 1, max(0, self.budget - len(self.pinned)))
            self._waiting.appendleft(key)
            return
        _, wait = self._retry.get(key, (0.0, self.retry_after / 2))
        wait = min(wait * 2, MAX_RETRY_SECONDS)
        self._retry[key] = (now + wait, wait)
        if key not in set(self.pinned):
            self._waiting.append(key)

    def retry_pinned_at(self, key: K) -> float:
        """When a refused pinned key may be asked for again (0: now)."""
        return self._retry.get(key, (0.0, 0.0))[0]

    def disconnected(self, now: float) -> list[K]:
        """Every line is gone (IB connection lost); returns the keys that held one, which go
        to the front of the queue so that they are resubscribed first."""
        keys = list(self.active)
        for key in keys:
            self._release(key, now)
        self._waiting.extendleft(reversed([k for k in keys if k in self._option_set]))
        return keys

    def _release(self, key: K, now: float) -> None:
        since = self.active.pop(key, None)
        cov = self.coverage.get(key)
        if since is not None and cov is not None:
            cov.seconds_subscribed += now - since
            cov.subscribed_at = None

    def record_row(self, key: K, at: datetime) -> None:
        """A row of ``key`` was produced at ``at``."""
        cov = self.coverage.get(key)
        if cov is not None:
            cov.rows += 1
            cov.last_row = at
            if cov.first_row is None:
                cov.first_row = at

    def in_use(self) -> int:
        """Lines held now."""
        return len(self.active)
