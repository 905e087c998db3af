"""Creating partitions on demand for the periods a write is about to touch.

On plain PostgreSQL a row whose period has no partition is refused (there is deliberately no
DEFAULT partition, which would make every later partition creation scan it). Write paths call
:meth:`PartitionGuard.ensure` with the times of the rows they are about to write; it creates
each missing daily or monthly partition once (``alc_ensure_partition``) and remembers the
periods it has seen, so the steady state costs no round trip. On TimescaleDB chunks are created
by the extension and the guard does nothing.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from datetime import UTC, date, datetime

from alc_data.db.timeseries import table_spec
from alc_data.errors import NaiveDatetimeError

#: Runs ``SELECT alc_ensure_partition($1, $2)`` on some connection and returns its boolean.
EnsureCall = Callable[[str, datetime], Awaitable[bool]]


def period_start(period: str, at: datetime) -> datetime:
    """The UTC start of the day or month containing ``at``."""
    if at.tzinfo is None:
        raise NaiveDatetimeError(f"naive datetime {at.isoformat()} (attach a time zone)")
    at = at.astimezone(UTC)
    if period == "day":
        return at.replace(hour=0, minute=0, second=0, microsecond=0)
    return at.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


class PartitionGuard:
    """Remembers which partitions exist and creates the missing ones before a write."""

    def __init__(self, *, enabled: bool = True) -> None:
        self.enabled = enabled
        self._known: set[tuple[str, datetime]] = set()
        self.created = 0

    async def ensure(self, ensure_call: EnsureCall, table: str, times: Iterable[datetime]) -> int:
        """Create the partitions of ``table`` for every period in ``times``; returns how many
        were created by this call."""
        if not self.enabled:
            return 0
        period = table_spec(table).period
        wanted = {period_start(period, t) for t in times}
        created = 0
        for start in sorted(wanted):
            if (table, start) in self._known:
                continue
            if await ensure_call(table, start):
                created += 1
            self._known.add((table, start))
        self.created += created
        return created

    def knows(self, table: str, days: Iterable[int]) -> bool:
        """True when the partitions of these UTC day numbers are known to exist (or the
        guard is off): no round trip is needed before writing them."""
        if not self.enabled:
            return True
        period = table_spec(table).period
        for day in days:
            at = datetime.combine(date.fromordinal(day), datetime.min.time(), UTC)
            if (table, period_start(period, at)) not in self._known:
                return False
        return True

    def forget(self) -> None:
        """Drop the memory of existing partitions (after maintenance dropped some)."""
        self._known.clear()
