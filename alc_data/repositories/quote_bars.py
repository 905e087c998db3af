"""Rolling stored BID_ASK history bars up into quote bars (pure functions)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from alc_data.db.rows import OptionBarRow, QuoteBar

#: TimescaleDB's default ``time_bucket`` origin (a Monday), used by both backends.
ORIGIN = datetime(2000, 1, 3, tzinfo=UTC)


def bucket_start(at: datetime, step: timedelta) -> datetime:
    """The start of the bucket of width ``step`` containing ``at``."""
    return ORIGIN + ((at - ORIGIN) // step) * step


def roll_up_stored(
    bars: Sequence[tuple[OptionBarRow, timedelta]], step: timedelta
) -> list[QuoteBar]:
    """Quote bars of width ``step`` from IB BID_ASK bars (oldest first).

    An IB BID_ASK bar's open is the time-average bid and its close the time-average ask; each
    stored bar contributes the midpoint of those two as its price.
    """
    out: list[QuoteBar] = []
    group: list[OptionBarRow] = []
    current: datetime | None = None
    for bar, _ in bars:
        start = bucket_start(bar.time, step)
        if current is not None and start != current and group:
            out.append(_combine(current, group))
            group = []
        current = start
        group.append(bar)
    if current is not None and group:
        out.append(_combine(current, group))
    return out


def _combine(start: datetime, group: Sequence[OptionBarRow]) -> QuoteBar:
    mids = [(b.open + b.close) / 2 for b in group if b.open is not None and b.close is not None]
    spreads = [b.close - b.open for b in group if b.open is not None and b.close is not None]
    last = group[-1]
    volumes = [b.volume for b in group if b.volume is not None]
    return QuoteBar(
        time=start,
        open=mids[0] if mids else None,
        high=max(mids) if mids else None,
        low=min(mids) if mids else None,
        close=mids[-1] if mids else None,
        bid=last.open,
        ask=last.close,
        spread_avg=sum(spreads) / len(spreads) if spreads else None,
        volume=sum(volumes) if volumes else None,
        tick_count=None,
        basis="bars",
    )
