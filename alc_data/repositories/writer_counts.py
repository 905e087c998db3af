"""The counters a buffered writer reports (``BufferedWriter.counts``)."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["WriterCounts"]


@dataclass(frozen=True)
class WriterCounts:
    """A snapshot of a writer's counters.

    ``put == accepted + rejected_on_put``; every accepted row ends up ``written``, a
    ``duplicate`` (idempotent path: already stored), ``rejected_on_write``, or is still
    ``pending``/``in_flight``.
    """

    put: int
    accepted: int
    rejected_on_put: int
    rejected_on_write: int
    written: int
    duplicates: int
    pending: int
    in_flight: int
    flushes: int
    failed_flushes: int
    last_error: str | None

    @property
    def rejected(self) -> int:
        """All rejected rows."""
        return self.rejected_on_put + self.rejected_on_write
