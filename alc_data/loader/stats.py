"""What a load reports: the returned stats and the progress events for a display."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from alc_data.loader.scheduler import PacingCounts

__all__ = ["STATS_KEYS", "LoadCounters", "LoadProgress", "ProgressHook"]

#: The keys of the stats dict, in order (the documented contract of ``load_symbol_history``).
STATS_KEYS = (
    "symbol",
    "start_date",
    "end_date",
    "stock_bars_loaded",
    "option_bars_loaded",
    "errors",
    "ib_errors",
    "history_requests",
    "pacing_waits",
    "skipped_complete",
    "unavailable_expired",
)


@dataclass(frozen=True)
class LoadProgress:
    """A snapshot of a running load, passed to the ``on_progress`` hook after each request.

    ``eta_seconds`` is None until a first request has completed; ``ib_errors`` counts the IB
    errors so far by code (and ``"timeout"``).
    """

    symbol: str
    contracts: int
    requests_planned: int
    requests_done: int
    history_requests: int
    pacing_waits: int
    elapsed_seconds: float
    eta_seconds: float | None
    ib_errors: Mapping[str, int] = field(default_factory=dict)

    @property
    def fraction(self) -> float:
        """Completed share of the planned requests (1.0 when nothing was planned)."""
        return self.requests_done / self.requests_planned if self.requests_planned else 1.0


ProgressHook = Callable[[LoadProgress], None]


@dataclass
class LoadCounters:
    """Counters of one run (turned into the stats dict by :meth:`as_stats`)."""

    symbol: str
    start_date: date
    end_date: date
    errors: int = 0
    skipped_complete: int = 0
    requests_done: int = 0
    unavailable_contracts: set[int] = field(default_factory=set)
    pacing: PacingCounts = field(default_factory=PacingCounts)
    #: IB errors by code (and ``"timeout"``), and the first message of each: the history
    #: client's own counters, shared for the run.
    ib_errors: Counter[str] = field(default_factory=Counter)
    ib_first_messages: dict[str, str] = field(default_factory=dict)
    _reported: set[str] = field(default_factory=set)

    def unreported_errors(self) -> list[tuple[str, str]]:
        """IB error kinds (key, first message) not reported yet; now counted as reported."""
        new = [(k, self.ib_first_messages.get(k, "")) for k in self.ib_errors
               if k not in self._reported]  # fmt: skip
        self._reported.update(k for k, _ in new)
        return new

    def as_stats(
        self,
        *,
        stock_bars: int,
        option_bars: int,
        history_requests: int,
        pacing_waits: int,
        ib_errors: Mapping[str, int],
    ) -> dict[str, Any]:
        """The documented stats dict (keys: :data:`STATS_KEYS`)."""
        return {
            "symbol": self.symbol,
            "start_date": self.start_date,
            "end_date": self.end_date,
            "stock_bars_loaded": stock_bars,
            "option_bars_loaded": option_bars,
            "errors": self.errors,
            "ib_errors": dict(sorted(ib_errors.items())),
            "history_requests": history_requests,
            "pacing_waits": pacing_waits,
            "skipped_complete": self.skipped_complete,
            "unavailable_expired": len(self.unavailable_contracts),
        }
