"""Rules on time: timestamps, sessions, gaps, staleness and cumulative volume.

The per-contract rules keep their memory in ``context.state`` so that a quality run can feed
them the window's ticks batch after batch. They expect each contract's ticks in time order
(the validator reads them so); a tick older than the contract's last one is not judged.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from alc_data.trading_sessions import (
    LATEST,
    SessionClock,
    closes_late,
    day_key,
    effective_end,
    plausible,
    session_bounds,
)
from alc_data.validation.rule import BatchRule
from alc_data.validation.types import (
    Finding,
    MarketDataSnapshot,
    ValidationContext,
    ValidationResult,
)

__all__ = ["GapRule", "StalenessRule", "TimeConsistencyRule", "VolumeMonotonicRule"]

#: Clock skew tolerated between the collector and the validator.
FUTURE_TOLERANCE = timedelta(seconds=5)
#: Delayed data (IB market data type 3) arrives up to 15 minutes after the close.
DELAYED_EXTRA = timedelta(minutes=15)
#: Frozen and snapshot quotes repeat the last values outside the session by design.
_SESSIONLESS_TYPES = frozenset({"FROZEN", "SNAPSHOT"})

INVALID = ValidationResult.INVALID
WARNING = ValidationResult.WARNING


_aware = plausible


class TimeConsistencyRule(BatchRule):
    """Timestamps are timezone-aware, plausible, not in the future, and inside the session.

    A naive, implausible (before 1970 or after 2200) or future timestamp (beyond 5 s of clock
    skew) is invalid. A tick outside the product's regular session is a warning, not an
    error: some index options trade in extended sessions, and IB may repeat quotes.
    Sessions: 09:30-16:00 New York (16:15 for index options and SPY, QQQ, IWM, DIA; 13:00 and
    13:15 on early closes); none on weekends and NYSE holidays. FROZEN and SNAPSHOT quotes are
    exempt from the session check; DELAYED quotes may arrive up to 15 minutes after the close.
    """

    def __init__(self) -> None:
        super().__init__(
            "time_consistency", "aware timestamps, not in the future, inside the product session"
        )

    def check(
        self, snapshots: Sequence[MarketDataSnapshot], context: ValidationContext
    ) -> list[Finding]:
        limit = context.now + FUTURE_TOLERANCE if context.now < LATEST else context.now
        clock = SessionClock()
        out = []
        for s in snapshots:
            t = s.time
            if not plausible(t):
                what = "naive timestamp" if isinstance(t, datetime) else "no timestamp"
                if isinstance(t, datetime) and t.tzinfo is not None:
                    what = "implausible timestamp"
                out.append(self.found(s, INVALID, f"{what} ({t!r})"))
            elif t > limit:
                ahead = (t - context.now).total_seconds()
                out.append(self.found(s, INVALID, f"timestamp {ahead:.0f}s in the future", ahead))
            elif s.tick_type not in _SESSIONLESS_TYPES:
                hours = clock.bounds(t, closes_late(s.underlying, s.sec_type))
                close = None if hours is None else hours[1]
                if close is not None and s.tick_type == "DELAYED":
                    close += DELAYED_EXTRA
                if hours is None or close is None or not hours[0] <= t <= close:
                    message = f"outside the regular {s.underlying or 'equity option'} session"
                    out.append(self.found(s, WARNING, message))
        return out


class GapRule(BatchRule):
    """Flags the tick that ends an in-session gap longer than ``ALC_GAP_SECONDS`` (warning).

    A gap is the time between two consecutive ticks of one contract inside one session; the
    night, weekends and holidays are not gaps.
    """

    def __init__(self) -> None:
        super().__init__("tick_gap", "no in-session gap between ticks longer than ALC_GAP_SECONDS")

    def check(
        self, snapshots: Sequence[MarketDataSnapshot], context: ValidationContext
    ) -> list[Finding]:
        gap = timedelta(seconds=context.limits.gap_seconds)
        last: dict[int | None, datetime] = context.state.setdefault(self.name, {})
        out = []
        for s in snapshots:
            t = s.time
            if not _aware(t):
                continue
            prev = last.get(s.contract_id)
            if prev is not None:
                if t < prev:
                    continue
                if t - prev > gap:
                    hours = session_bounds(day_key(t), closes_late(s.underlying, s.sec_type))
                    if hours is not None and hours[0] <= prev and t <= hours[1]:
                        seconds = (t - prev).total_seconds()
                        message = f"{seconds:.0f}s without a tick (since {prev.isoformat()})"
                        out.append(self.found(s, WARNING, message, seconds, gap.total_seconds()))
            last[s.contract_id] = t
        return out


@dataclass
class _Seen:
    late: bool
    last: datetime
    last_in_session: datetime | None


class StalenessRule(BatchRule):
    """Flags contracts (not ticks) with no tick in the last ``ALC_STALE_AFTER_SECONDS``.

    Measured at the context's reference time (``as_of``, else the latest tick evaluated), or
    at the last session close before it when the product's session is over; judged once all
    batches were seen (:meth:`finish`).
    """

    def __init__(self) -> None:
        super().__init__(
            "stale_contract", "a tick within ALC_STALE_AFTER_SECONDS of the reference time"
        )

    def check(
        self, snapshots: Sequence[MarketDataSnapshot], context: ValidationContext
    ) -> list[Finding]:
        seen: dict[int | None, _Seen] = context.state.setdefault(self.name, {})
        as_of = context.as_of
        clock = SessionClock()
        for s in snapshots:
            t = s.time
            if not _aware(t) or (as_of is not None and t > as_of):
                continue
            entry = seen.get(s.contract_id)
            if entry is None:
                entry = seen[s.contract_id] = _Seen(closes_late(s.underlying, s.sec_type), t, None)
            elif t > entry.last:
                entry.last = t
            if entry.last_in_session is None or t > entry.last_in_session:
                hours = clock.bounds(t, entry.late)
                if hours is not None and hours[0] <= t <= hours[1]:
                    entry.last_in_session = t
        return []

    async def finish(self, context: ValidationContext) -> list[Finding]:
        reference = context.reference_time
        seen: dict[int | None, _Seen] = context.state.get(self.name, {})
        if reference is None:
            return []
        stale = timedelta(seconds=context.limits.stale_after_seconds)
        ends = {
            late: effective_end(reference, late, context.window_start) for late in (False, True)
        }
        out = []
        for contract_id, entry in seen.items():
            end = ends[entry.late]
            last = entry.last_in_session
            if end is None or (last is not None and last > end - stale):
                continue
            since = (end - last).total_seconds() if last is not None else None
            message = (
                f"no tick since {last.isoformat()} ({since:.0f}s before {end.isoformat()})"
                if last is not None and since is not None
                else f"no in-session tick before {end.isoformat()}"
            )
            out.append(
                Finding(self.name, WARNING, message, contract_id, None, self.critical, since,
                        stale.total_seconds())
            )  # fmt: skip
        return out


class VolumeMonotonicRule(BatchRule):
    """Cumulative volume never decreases within a session (a decrease is invalid)."""

    def __init__(self) -> None:
        super().__init__("volume_monotonic", "cumulative volume does not decrease in a session")

    def check(
        self, snapshots: Sequence[MarketDataSnapshot], context: ValidationContext
    ) -> list[Finding]:
        last: dict[int | None, tuple[datetime, Any, float]] = context.state.setdefault(
            self.name, {}
        )
        clock = SessionClock()
        out = []
        for s in snapshots:
            v = s.volume
            t = s.time
            if v is None or v != v or not _aware(t):
                continue
            day = clock.day(t)
            prev = last.get(s.contract_id)
            if prev is not None:
                if t < prev[0]:
                    continue
                if prev[1] == day and v < prev[2]:
                    message = f"volume fell from {prev[2]!r} to {v!r} within the session"
                    out.append(self.found(s, INVALID, message, v - prev[2], 0.0))
            last[s.contract_id] = (t, day, v)
        return out
