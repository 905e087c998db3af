"""What a load reports: the returned stats and the progress events for a display."""

from __future__ import annotations

from collections.abc import Callable
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
    "history_requests",
    "pacing_waits",
    "skipped_complete",
    "unavailable_expired",
)


@dataclass(frozen=True)
class LoadProgress:
    """A snapshot of a running load, passed to the ``on_progress`` hook after each request.

    ``eta_seconds`` is None until a first request has completed.
    """

    symbol: str
    contracts: int
    requests_planned: int
    requests_done: int
    history_requests: int
    pacing_waits: int
    elapsed_seconds: float
    eta_seconds: float | None

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

    def as_stats(
        self, *, stock_bars: int, option_bars: int, history_requests: int, pacing_waits: int
    ) -> dict[str, Any]:
        """The documented stats dict (keys: :data:`STATS_KEYS`)."""
        return {
            "symbol": self.symbol,
            "start_date": self.start_date,
            "end_date": self.end_date,
            "stock_bars_loaded": stock_bars,
            "option_bars_loaded": option_bars,
            "errors": self.errors,
            "history_requests": history_requests,
            "pacing_waits": pacing_waits,
            "skipped_complete": self.skipped_complete,
            "unavailable_expired": len(self.unavailable_contracts),
        }
