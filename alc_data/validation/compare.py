"""Comparing two sources of option quotes (``alc-data validate --compare A B``).

For every contract with ticks of both sources in the window, both are sampled on a common
as-of grid (every ``grid`` seconds, by default 1 s: at each instant, each source's latest
two-sided quote at or before it), from the first instant at which both have one. Reported:
the share of instants whose mids agree within $0.01 or 1% of the mid (whichever is larger),
the median and p99 absolute differences of mid and spread, and the biggest disagreements.

Each contract's ticks are read one contract at a time (memory: one contract's window).
"""

from __future__ import annotations

import bisect
import heapq
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import text

from alc_data.db.database import Database
from alc_data.errors import DataError, NaiveDatetimeError, UnknownSourceError

#: Mids agree within this many dollars or this share of the mid, whichever is larger.
ABSOLUTE_TOLERANCE = 0.01
RELATIVE_TOLERANCE = 0.01
#: Disagreements listed in the report.
WORST = 10

_SOURCE_ID = text("SELECT id FROM data_sources WHERE name = :name")
_COMMON = text(
    """
    SELECT o.id, o.contract_symbol FROM option_chains o
    JOIN underlying_securities u ON u.id = o.underlying_id
    WHERE (CAST(:symbol AS text) IS NULL OR u.symbol = :symbol)
      AND EXISTS (SELECT 1 FROM market_data_ticks t WHERE t.contract_id = o.id
                  AND t.source_id = :a AND t.time >= :start AND t.time < :end)
      AND EXISTS (SELECT 1 FROM market_data_ticks t WHERE t.contract_id = o.id
                  AND t.source_id = :b AND t.time >= :start AND t.time < :end)
    ORDER BY o.id
    """
)
_QUOTES = text(
    """
    SELECT time, bid_price, ask_price FROM market_data_ticks
    WHERE contract_id = :contract AND source_id = :source AND time >= :start AND time < :end
      AND bid_price IS NOT NULL AND ask_price IS NOT NULL
    ORDER BY time
    """
)


@dataclass(frozen=True)
class Disagreement:
    """One instant at which the two sources' mids differ beyond the tolerance."""

    contract_id: int
    contract_symbol: str | None
    time: datetime
    mid_a: float
    mid_b: float

    @property
    def difference(self) -> float:
        """``|mid_a - mid_b|``."""
        return abs(self.mid_a - self.mid_b)


@dataclass
class SourceComparison:
    """The comparison of ``source_a`` and ``source_b`` over ``[start, end)``."""

    source_a: str
    source_b: str
    start: datetime
    end: datetime
    grid_seconds: float
    contracts: int = 0
    instants: int = 0
    agreeing: int = 0
    mid_differences: list[float] = field(default_factory=list, repr=False)
    spread_differences: list[float] = field(default_factory=list, repr=False)
    worst: list[Disagreement] = field(default_factory=list)

    @property
    def agreement_share(self) -> float | None:
        """Share (0..1) of the instants whose mids agree; None without common instants."""
        return self.agreeing / self.instants if self.instants else None

    def as_json(self) -> dict[str, Any]:
        """A JSON-ready dict (``--json``)."""
        return {
            "source_a": self.source_a,
            "source_b": self.source_b,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "grid_seconds": self.grid_seconds,
            "contracts": self.contracts,
            "instants": self.instants,
            "agreement_share": self.agreement_share,
            "mid_difference_median": _quantile(self.mid_differences, 0.5),
            "mid_difference_p99": _quantile(self.mid_differences, 0.99),
            "spread_difference_median": _quantile(self.spread_differences, 0.5),
            "spread_difference_p99": _quantile(self.spread_differences, 0.99),
            "worst": [
                {
                    "contract_id": w.contract_id,
                    "contract_symbol": w.contract_symbol,
                    "time": w.time.isoformat(),
                    "mid_a": w.mid_a,
                    "mid_b": w.mid_b,
                    "difference": w.difference,
                }
                for w in self.worst
            ],
        }


def _quantile(values: list[float], q: float) -> float | None:
    """The ``q`` quantile (nearest rank) of ``values``, None when empty."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def mids_agree(mid_a: float, mid_b: float) -> bool:
    """True when the mids differ by at most $0.01 or 1% of the mid, whichever is larger."""
    mid = (mid_a + mid_b) / 2
    return abs(mid_a - mid_b) <= max(ABSOLUTE_TOLERANCE, RELATIVE_TOLERANCE * abs(mid))


Quotes = list[tuple[datetime, float, float]]


def sample(quotes_a: Quotes, quotes_b: Quotes, step: timedelta, end: datetime) -> Any:
    """``(instant, (bid_a, ask_a), (bid_b, ask_b))`` on the as-of grid (see module doc)."""
    if not quotes_a or not quotes_b:
        return
    times_a = [q[0] for q in quotes_a]
    times_b = [q[0] for q in quotes_b]
    at = max(times_a[0], times_b[0])
    while at < end:
        i = bisect.bisect_right(times_a, at) - 1
        j = bisect.bisect_right(times_b, at) - 1
        yield at, quotes_a[i][1:], quotes_b[j][1:]
        at += step


async def compare_sources(
    db: Database,
    source_a: str,
    source_b: str,
    *,
    start: datetime,
    end: datetime,
    symbol: str | None = None,
    grid: timedelta = timedelta(seconds=1),
) -> SourceComparison:
    """Compare two sources' option quotes (see the module doc).

    Raises:
        UnknownSourceError: a source of that name does not exist.
        NaiveDatetimeError: ``start`` or ``end`` has no time zone.
        DataError: an empty window or a grid step that is not positive.
    """
    for at in (start, end):
        if at.tzinfo is None:
            raise NaiveDatetimeError(f"{at.isoformat()} has no time zone")
    if end <= start or grid <= timedelta(0):
        raise DataError("compare needs start < end and a positive grid step")
    result = SourceComparison(source_a, source_b, start, end, grid.total_seconds())
    async with db.connect() as conn:
        ids = []
        for name in (source_a, source_b):
            found = await conn.scalar(_SOURCE_ID, {"name": name})
            if found is None:
                raise UnknownSourceError(f"no source named {name!r}")
            ids.append(int(found))
        window = {"start": start, "end": end}
        common = await conn.execute(_COMMON, {"a": ids[0], "b": ids[1], "symbol": symbol,
                                              **window})  # fmt: skip
        worst: list[tuple[float, int, Disagreement]] = []
        for contract_id, contract_symbol in common.all():
            result.contracts += 1
            quotes = []
            for sid in ids:
                rows = await conn.execute(_QUOTES, {"contract": contract_id, "source": sid,
                                                    **window})  # fmt: skip
                quotes.append([(r.time, float(r.bid_price), float(r.ask_price)) for r in rows])
            for at, (bid_a, ask_a), (bid_b, ask_b) in sample(quotes[0], quotes[1], grid, end):
                mid_a, mid_b = (bid_a + ask_a) / 2, (bid_b + ask_b) / 2
                result.instants += 1
                result.mid_differences.append(abs(mid_a - mid_b))
                result.spread_differences.append(abs((ask_a - bid_a) - (ask_b - bid_b)))
                if mids_agree(mid_a, mid_b):
                    result.agreeing += 1
                    continue
                item = Disagreement(contract_id, contract_symbol, at, mid_a, mid_b)
                entry = (item.difference, -len(worst), item)
                if len(worst) < WORST:
                    heapq.heappush(worst, entry)
                else:
                    heapq.heappushpop(worst, entry)
    result.worst = [w[2] for w in sorted(worst, key=lambda e: (-e[0], e[2].time))]
    return result


def render_comparison(result: SourceComparison) -> str:
    """The comparison as terminal lines."""
    data = result.as_json()
    share = result.agreement_share

    def money(value: float | None) -> str:
        return "-" if value is None else f"${value:,.4f}"

    lines = [
        f"sources {result.source_a} vs {result.source_b}, {data['start']} .. {data['end']}, "
        f"grid {result.grid_seconds:g} s",
        f"  contracts in both {result.contracts:,}, instants {result.instants:,}, "
        f"mids agree {'-' if share is None else f'{share:.2%}'}",
        f"  mid difference median {money(data['mid_difference_median'])}, "
        f"p99 {money(data['mid_difference_p99'])}",
        f"  spread difference median {money(data['spread_difference_median'])}, "
        f"p99 {money(data['spread_difference_p99'])}",
    ]
    if result.worst:
        lines.append("  biggest disagreements")
        lines += [
            f"    {w.contract_symbol or w.contract_id}  {w.time.isoformat()}  "
            f"{w.mid_a:.4f} vs {w.mid_b:.4f}  ({w.difference:.4f})"
            for w in result.worst
        ]
    return "\n".join(lines)
