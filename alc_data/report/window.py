"""The report's window: which rows it reads, and the bucket sizes its charts aggregate to."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from alc_data.errors import ConfigError, NaiveDatetimeError

#: Aligns every ``date_bin`` bucket (a Monday, midnight UTC).
ORIGIN = datetime(2000, 1, 3, tzinfo=UTC)
#: The coverage heatmap's sampling interval: a contract is sampled once per minute.
SAMPLE = timedelta(minutes=1)
_NICE_MINUTES = (1, 5, 15, 30, 60, 120, 240, 1440)


def nice_bucket(span: timedelta, most: int) -> timedelta:
    """The smallest of 1, 5, 15, 30 min, 1, 2, 4 h, 1 day giving at most ``most`` buckets."""
    for minutes in _NICE_MINUTES:
        if span / timedelta(minutes=minutes) <= most:
            return timedelta(minutes=minutes)
    return timedelta(days=1)


@dataclass(frozen=True)
class ReportWindow:
    """Rows with ``start < time <= end`` of one source, optionally of one symbol."""

    start: datetime
    end: datetime
    source_id: int = -1
    symbol: str | None = None

    def __post_init__(self) -> None:
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise NaiveDatetimeError("report window bounds must be timezone-aware")
        if self.start >= self.end:
            raise ConfigError(
                f"report window is empty: start {self.start.isoformat()} is not before "
                f"end {self.end.isoformat()}"
            )

    @property
    def bucket(self) -> timedelta:
        """Heatmap columns and findings buckets: at most 200 over the window."""
        return nice_bucket(self.end - self.start, 200)

    @property
    def path_bucket(self) -> timedelta:
        """The underlying's price path: at most 1000 points over the window."""
        return nice_bucket(self.end - self.start, 1000)

    @property
    def first_day(self) -> date:
        return self.start.astimezone(UTC).date()

    @property
    def last_day(self) -> date:
        return self.end.astimezone(UTC).date()

    def params(self, **more: Any) -> dict[str, Any]:
        """Bind parameters shared by every statement."""
        return {
            "start": self.start,
            "end": self.end,
            "source": self.source_id,
            "origin": ORIGIN,
            "bucket": self.bucket,
            "sample": SAMPLE,
            **more,
        }
