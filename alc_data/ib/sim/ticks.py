"""Tick history as reqHistoricalTicks answers it, from the same quotes the server streams.

Quotes change at most once a second in IB's tick history (its times are whole seconds): a
BID_ASK tick is a second whose bid, ask or sizes differ from the previous tick's, a MIDPOINT tick
one whose midpoint differs; a TRADES tick is a simulated trade (an underlying trades every
second, an option every few seconds to half an hour depending on its distance from the money),
at the quote's last price and size. History follows the trading hours
(:func:`alc_data.ib.sim.history.hours_for`); at most 1000 ticks a request, as IB.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from alc_data import exchange_calendar as cal
from alc_data.ib.sim.core import HistoryError
from alc_data.ib.sim.history import hours_for
from alc_data.ib.sim.instruments import OptionSpec, UnderlyingSpec
from alc_data.ib.sim.model import QuoteModel

__all__ = ["MAX_TICKS", "TICK_KINDS", "HistoricalTick", "historical_ticks"]

MAX_TICKS = 1000
TICK_KINDS = frozenset({"BID_ASK", "MIDPOINT", "TRADES"})
_MAX_DAYS = 10  # how far a request with only an end looks back for sessions


@dataclass(frozen=True, slots=True)
class HistoricalTick:
    """One tick: epoch second, and bid/ask with sizes (BID_ASK) or a price and size."""

    time: int
    price: float
    size: float
    ask: float = 0.0
    ask_size: float = 0.0


def historical_ticks(
    model: QuoteModel,
    contract: UnderlyingSpec | OptionSpec,
    *,
    start: datetime | None,
    end: datetime | None,
    count: int,
    what: str,
    use_rth: bool,
) -> list[HistoricalTick]:
    """Up to ``count`` (at most 1000) ticks from ``start`` onwards, or the last ones before ``end``.

    Raises:
        HistoryError: 321 for an unknown ``what`` or neither start nor end.
    """
    what = what.upper()
    if what not in TICK_KINDS:
        raise HistoryError(321, f"Error validating request: whatToShow {what!r} for ticks")
    if contract_is_index(contract) and what == "BID_ASK":
        return []
    if start is None and end is None:
        raise HistoryError(321, "Error validating request: give a start or an end time")
    limit = min(max(count, 1), MAX_TICKS)
    now = model.now()
    top = min(end or now, now)
    forward = start is not None
    seconds = _seconds(model, contract, start, top, use_rth, forward, what)
    ticks: list[HistoricalTick] = []
    previous: tuple[float, ...] | None = None
    for ts in seconds:
        if top.timestamp() < ts or (start is not None and ts < start.timestamp()):
            continue
        tick = _tick(model, contract, ts, what)
        if tick is None:
            continue
        key = (tick.price, tick.size, tick.ask, tick.ask_size) if what != "TRADES" else (ts,)
        if what == "MIDPOINT":
            key = (tick.price,)
        if key == previous:
            continue
        previous = key
        ticks.append(tick)
        if len(ticks) >= limit:
            break
    if not forward:
        ticks.reverse()
    return ticks


def contract_is_index(contract: UnderlyingSpec | OptionSpec) -> bool:
    """True for an index (no bid, no ask)."""
    return isinstance(contract, UnderlyingSpec) and contract.is_index


def _seconds(
    model: QuoteModel,
    contract: UnderlyingSpec | OptionSpec,
    start: datetime | None,
    top: datetime,
    use_rth: bool,
    forward: bool,
    what: str,
) -> Iterator[float]:
    """Candidate tick instants in sessions, forwards from ``start`` or backwards from ``top``."""
    hours = hours_for(model, contract, use_rth)
    step = model.trade_period_at(contract, top) if what == "TRADES" else 1.0
    bottom = start or top - timedelta(days=_MAX_DAYS)
    day = (bottom if forward else top).astimezone(cal.EXCHANGE_TZ).date()
    for _ in range(_MAX_DAYS + 1):
        found = hours(day)
        if found is not None:
            lo = max(found[0], bottom).timestamp()
            hi = min(found[1], top).timestamp()
            if lo < hi:
                first, last = math.ceil(lo / step), math.floor((hi - 1e-9) / step)
                indices = range(first, last + 1) if forward else range(last, first - 1, -1)
                for k in indices:
                    # a tick's time is a whole second: a trade shows from the second after it
                    yield float(math.ceil(k * step - 1e-9))
        day += timedelta(days=1 if forward else -1)
        boundary = datetime.combine(day, datetime.min.time(), cal.EXCHANGE_TZ)
        if (forward and boundary.astimezone(UTC) > top) or (
            not forward and boundary.astimezone(UTC) + timedelta(days=1) < bottom
        ):
            return


def _tick(
    model: QuoteModel, contract: UnderlyingSpec | OptionSpec, ts: float, what: str
) -> HistoricalTick | None:
    q = model.quote(contract.con_id, datetime.fromtimestamp(ts, UTC))
    if what == "TRADES":
        return HistoricalTick(int(ts), q.last, float(q.last_size))
    if what == "MIDPOINT":
        mid = q.mid if q.mid is not None else q.last
        return HistoricalTick(int(ts), round(mid, 5), 0.0)
    if q.bid is None or q.ask is None:
        return None
    return HistoricalTick(int(ts), q.bid, float(q.bid_size), q.ask, float(q.ask_size))
