"""IB's historical-data pacing rules, shared by the simulator (which enforces them with error 162)
and the loader (which schedules its requests so that it never breaks them).

The limits (IB documentation, "Historical Data Limitations"): for bars of 30 seconds or less, at
most 60 requests in any 10-minute window, no identical request within 15 seconds, at most 5
requests for the same contract, exchange and tick type within 2 seconds (the 6th is a violation);
for every bar size at most 50 requests open at once. A BID_ASK request counts twice. Larger bars
are only throttled softly by IB, so the hard rules do not apply to them.

Every window is multiplied by :attr:`PacingRules.time_scale`, so tests can compress IB's 10-minute
window into a fraction of a second. Times are plain floats (a monotonic clock, in seconds); the
caller supplies them, which keeps this module free of I/O and easy to test.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from alc_data.bar_sizes import bar_size_seconds

__all__ = ["HistoricalRequestKey", "PacingRules", "PacingTracker", "bar_size_seconds"]


@dataclass(frozen=True)
class HistoricalRequestKey:
    """What the pacing rules compare: a historical request's identity.

    ``contract`` is any stable identity of the contract (IB's conId, or a local symbol).
    """

    contract: str
    exchange: str
    what_to_show: str
    bar_size: str
    duration: str = ""
    end: str = ""
    use_rth: bool = False

    @property
    def same_contract_key(self) -> tuple[str, str, str]:
        """The (contract, exchange, tick type) triple of the 2-second rule."""
        return (self.contract, self.exchange, self.what_to_show.upper())

    @property
    def weight(self) -> int:
        """How many requests this one counts as (BID_ASK counts twice)."""
        return 2 if self.what_to_show.upper() == "BID_ASK" else 1


@dataclass(frozen=True)
class PacingRules:
    """IB's pacing limits; windows are in seconds and scaled by ``time_scale``."""

    max_requests: int = 60
    window: float = 600.0
    identical_window: float = 15.0
    max_same_contract: int = 5
    same_contract_window: float = 2.0
    max_open: int = 50
    hard_max_bar_seconds: int = 30
    time_scale: float = 1.0

    def scaled(self, seconds: float) -> float:
        """A window of IB's in this instance's time scale."""
        return seconds * self.time_scale

    def is_hard(self, bar_size: str) -> bool:
        """True when the hard rules (60/10 min, 15 s, 5/2 s) apply to this bar size."""
        try:
            return bar_size_seconds(bar_size) <= self.hard_max_bar_seconds
        except ValueError:
            return False


@dataclass
class PacingTracker:
    """Remembers recent historical requests and answers whether (and when) a new one may go.

    The simulator calls :meth:`violation` then :meth:`record`; the loader calls :meth:`wait_time`
    and sleeps that long before sending. :meth:`opened` / :meth:`closed` count open requests.
    """

    rules: PacingRules = field(default_factory=PacingRules)
    _history: deque[tuple[float, HistoricalRequestKey]] = field(default_factory=deque)
    _open: int = 0

    @property
    def open_requests(self) -> int:
        """Requests sent and not yet answered."""
        return self._open

    def _forget(self, now: float) -> None:
        horizon = max(
            self.rules.window, self.rules.identical_window, self.rules.same_contract_window
        )
        oldest = now - self.rules.scaled(horizon)
        while self._history and self._history[0][0] <= oldest:
            self._history.popleft()

    def _in_window(self, now: float, seconds: float) -> list[tuple[float, HistoricalRequestKey]]:
        start = now - self.rules.scaled(seconds)
        return [(t, k) for t, k in self._history if t > start]

    def violation(self, request: HistoricalRequestKey, now: float) -> str | None:
        """The rule ``request`` would break if sent at ``now``, or None if it is allowed."""
        self._forget(now)
        if self._open >= self.rules.max_open:
            return f"more than {self.rules.max_open} open historical requests"
        if not self.rules.is_hard(request.bar_size):
            return None
        hard = [(t, k) for t, k in self._history if self.rules.is_hard(k.bar_size)]
        rules = self.rules
        recent = [(t, k) for t, k in hard if t > now - rules.scaled(rules.window)]
        if sum(k.weight for _, k in recent) + request.weight > rules.max_requests:
            return f"more than {rules.max_requests} requests within {rules.window:g} s"
        identical_start = now - rules.scaled(rules.identical_window)
        if any(k == request and t > identical_start for t, k in hard):
            return f"identical request within {rules.identical_window:g} s"
        same_start = now - rules.scaled(rules.same_contract_window)
        same = sum(
            k.weight
            for t, k in hard
            if t > same_start and k.same_contract_key == request.same_contract_key
        )
        if same + request.weight > rules.max_same_contract:
            return (
                f"more than {rules.max_same_contract} requests for the same contract, exchange"
                f" and tick type within {rules.same_contract_window:g} s"
            )
        return None

    def wait_time(self, request: HistoricalRequestKey, now: float) -> float:
        """Seconds to wait from ``now`` until ``request`` breaks no rule (0.0 = send now).

        The open-request limit is not a matter of waiting a fixed time: when it is reached this
        returns ``inf`` until a request is :meth:`closed`.
        """
        self._forget(now)
        if self._open >= self.rules.max_open:
            return float("inf")
        if not self.rules.is_hard(request.bar_size):
            return 0.0
        wait = 0.0
        rules = self.rules
        hard = [(t, k) for t, k in self._history if rules.is_hard(k.bar_size)]
        wait = max(
            wait,
            _wait_for_capacity(
                hard, request.weight, rules.max_requests, rules.scaled(rules.window), now
            ),
        )
        for t, k in hard:
            if k == request:
                wait = max(wait, t + rules.scaled(rules.identical_window) - now)
        same = [(t, k) for t, k in hard if k.same_contract_key == request.same_contract_key]
        wait = max(
            wait,
            _wait_for_capacity(
                same,
                request.weight,
                rules.max_same_contract,
                rules.scaled(rules.same_contract_window),
                now,
            ),
        )
        # A strictly later instant: windows are open on the left (t > now - window).
        return wait + 1e-6 if wait > 0 else 0.0

    def record(self, request: HistoricalRequestKey, now: float) -> None:
        """Remember that ``request`` was sent at ``now``."""
        self._forget(now)
        self._history.append((now, request))

    def opened(self) -> None:
        """Count one more open request."""
        self._open += 1

    def closed(self) -> None:
        """Count one open request as answered (or cancelled)."""
        self._open = max(0, self._open - 1)


def _wait_for_capacity(
    entries: list[tuple[float, HistoricalRequestKey]],
    weight: int,
    limit: int,
    window: float,
    now: float,
) -> float:
    """How long until the entries inside ``window`` leave room for ``weight`` more."""
    live = sorted((t, k.weight) for t, k in entries if t > now - window)
    used = sum(w for _, w in live)
    wait = 0.0
    for t, w in live:
        if used + weight <= limit:
            break
        used -= w
        wait = t + window - now
    return max(wait, 0.0)
