"""What a planned load means, told before anything is requested: contracts, requests, rows, time."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from alc_data.loader.config import LoaderConfig
from alc_data.loader.plan import RequestSpec, expected_bars

__all__ = ["ANSWER_SECONDS", "LARGE_REQUESTS", "LARGE_ROWS", "LoadEstimate", "PlanHook", "estimate"]

#: A load above either of these is large: the command line asks before starting it.
LARGE_REQUESTS = 500
LARGE_ROWS = 1_000_000
#: Seconds IB takes to answer a history request, for estimates only.
ANSWER_SECONDS = 1.0


@dataclass(frozen=True)
class LoadEstimate:
    """What a planned load means, told before anything is requested.

    ``rows`` counts the bars the sessions hold (an upper bound: illiquid strikes have fewer);
    ``seconds`` adds IB's pacing waits to about one second per answer (a rough figure: IB's
    answer times vary with the bar size and the time of day).
    """

    symbol: str
    contracts: int
    requests: int
    rows: int
    seconds: float
    skipped_complete: int = 0

    @property
    def large(self) -> bool:
        """More than :data:`LARGE_REQUESTS` requests or :data:`LARGE_ROWS` rows."""
        return self.requests > LARGE_REQUESTS or self.rows > LARGE_ROWS

    def describe(self) -> str:
        """One line: contracts, requests, rows and time."""
        hours, rest = divmod(int(self.seconds), 3600)
        took = f"{hours} h {rest // 60:02d} min" if hours else f"{max(1, rest // 60)} min"
        return (
            f"{self.symbol}: {self.contracts} option contracts in the bands, "
            f"{self.requests:,} history requests, about {self.rows:,} bars and {took} "
            f"({self.skipped_complete:,} instrument-days already complete)"
        )


#: Called with the estimate before a load starts; returning False stops it there.
PlanHook = Callable[[LoadEstimate], bool]


def estimate(
    symbol: str,
    contracts: int,
    requests: Sequence[RequestSpec],
    config: LoaderConfig,
    skipped_complete: int = 0,
) -> LoadEstimate:
    """What ``requests`` mean: bars the sessions hold, and time with IB's pacing waits."""
    rules = config.pacing
    rows = sum(expected_bars(d, r.series.bar_size) for r in requests for d in r.days)
    hard = [r for r in requests if rules.is_hard(r.series.bar_size)]
    weight = sum(r.weight for r in hard)
    full_windows = max(0, math.ceil(weight / rules.max_requests) - 1)
    seconds = (full_windows * rules.scaled(rules.window) + len(hard) * ANSWER_SECONDS
               + (len(requests) - len(hard)) * ANSWER_SECONDS / config.concurrency)  # fmt: skip
    return LoadEstimate(symbol, contracts, len(requests), rows, seconds, skipped_complete)
