"""Which history requests a load makes (pure: no I/O).

Progress is kept per *unit*: (instrument kind, instrument id, whatToShow, bar size, trading
day), the key of ``history_requests``. A load wants every unit of its window whose trading
session has closed; the units already complete (done, empty or unavailable) are skipped, and the
missing ones are grouped into requests: runs of consecutive trading days of one instrument and
series, at most ``sessions_per_request`` days each (IB's ``"N D"`` duration counts sessions when
``useRTH`` is set, so a request ending at the last day's close covers exactly those days).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from alc_data import exchange_calendar as cal
from alc_data.ib.pacing import HistoricalRequestKey, bar_size_seconds

__all__ = [
    "COMPLETE",
    "Instrument",
    "RequestSpec",
    "Series",
    "UnitKey",
    "closed_trading_days",
    "expected_bars",
    "plan_requests",
    "trading_day_of",
]

#: Statuses after which a unit is never requested again.
COMPLETE = frozenset({"done", "empty", "unavailable"})

#: (instrument_kind, instrument_id, what_to_show, bar_size, trading_day)
UnitKey = tuple[str, int, str, str, date]


@dataclass(frozen=True)
class Instrument:
    """Something history is loaded for: the underlying (``stock``) or an ``option``.

    ``contract`` is the qualified IB contract, opaque to the plan.
    """

    kind: str
    instrument_id: int
    con_id: int
    exchange: str
    label: str
    contract: Any = None
    expiry: date | None = None


@dataclass(frozen=True)
class Series:
    """One bar series: ``whatToShow`` at a bar size."""

    what_to_show: str
    bar_size: str


@dataclass(frozen=True)
class RequestSpec:
    """One ``reqHistoricalData``: an instrument's series over consecutive trading days."""

    instrument: Instrument
    series: Series
    days: tuple[date, ...]

    @property
    def end(self) -> datetime:
        """The close of the last day's session (the request's ``endDateTime``)."""
        hours = cal.session(self.days[-1])
        assert hours is not None, "requests only cover trading days"
        return hours[1]

    @property
    def duration(self) -> str:
        """IB's ``durationStr``: one session per day (``useRTH`` counts sessions)."""
        return f"{len(self.days)} D"

    @property
    def weight(self) -> int:
        """How many requests IB counts this one as (BID_ASK counts twice)."""
        return self.pacing_key.weight

    @property
    def pacing_key(self) -> HistoricalRequestKey:
        """The identity IB's pacing rules compare."""
        return HistoricalRequestKey(
            str(self.instrument.con_id), self.instrument.exchange, self.series.what_to_show,
            self.series.bar_size, self.duration, self.end.strftime("%Y%m%d-%H:%M:%S"), True,
        )  # fmt: skip

    def unit(self, day: date) -> UnitKey:
        """The progress key of one of this request's days."""
        i = self.instrument
        return (i.kind, i.instrument_id, self.series.what_to_show, self.series.bar_size, day)

    def units(self) -> list[UnitKey]:
        """The progress keys of every day of this request."""
        return [self.unit(d) for d in self.days]


def trading_day_of(at: datetime) -> date:
    """The exchange-calendar day of an instant (bars are assigned to it by their start)."""
    return at.astimezone(cal.EXCHANGE_TZ).date()


def closed_trading_days(start: date, end: date, now: datetime) -> list[date]:
    """Trading days in ``[start, end]`` (both included) whose session closed by ``now``."""
    days = []
    for day in cal.trading_days(start, end):
        hours = cal.session(day)
        if hours is not None and hours[1] <= now:
            days.append(day)
    return days


def expected_bars(day: date, bar_size: str) -> int:
    """Bars of ``bar_size`` in ``day``'s regular session (early closes included)."""
    hours = cal.session(day)
    if hours is None:
        return 0
    seconds = bar_size_seconds(bar_size)
    if seconds >= 86_400:
        return 1
    length = (hours[1] - hours[0]).total_seconds()
    return int(-(-length // seconds))


def _runs(days: Sequence[date], wanted: Collection[date], limit: int) -> list[tuple[date, ...]]:
    """Runs of consecutive ``days`` (as the calendar orders them) that are ``wanted``."""
    runs: list[tuple[date, ...]] = []
    current: list[date] = []
    for day in days:
        if day in wanted and len(current) < limit:
            current.append(day)
            continue
        if current:
            runs.append(tuple(current))
        current = [day] if day in wanted else []
    if current:
        runs.append(tuple(current))
    return runs


def plan_requests(
    instruments: Iterable[Instrument],
    series_of: Callable[[Instrument], Sequence[Series]],
    days: Sequence[date],
    complete: Collection[UnitKey],
    sessions_per_request: Callable[[Series], int],
) -> tuple[list[RequestSpec], int]:
    """The requests that fetch every missing unit, and how many units were already complete.

    An option's days stop at its expiry. Requests are ordered by their first day, then by
    instrument, so that consecutive requests rarely hit the same contract (IB's 2-second rule).
    """
    requests: list[RequestSpec] = []
    skipped = 0
    for instrument in instruments:
        own = [d for d in days if instrument.expiry is None or d <= instrument.expiry]
        for series in series_of(instrument):
            probe = RequestSpec(instrument, series, (own[0],)) if own else None
            wanted = {d for d in own if probe is not None and probe.unit(d) not in complete}
            skipped += len(own) - len(wanted)
            for run in _runs(own, wanted, sessions_per_request(series)):
                requests.append(RequestSpec(instrument, series, run))
    requests.sort(key=lambda r: (r.days[0], r.instrument.kind != "stock", r.instrument.label))
    return requests, skipped
