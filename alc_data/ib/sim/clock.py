"""The simulator's clock: real time by default, or frozen at an instant a test chooses."""

from __future__ import annotations

from datetime import UTC, datetime

__all__ = ["SimClock"]


class SimClock:
    """Tells the simulator what time it is; tests freeze it to compare streams with the model."""

    def __init__(self, frozen_at: datetime | None = None) -> None:
        self._frozen: datetime | None = None
        if frozen_at is not None:
            self.freeze(frozen_at)

    @property
    def frozen(self) -> bool:
        """True while the clock stands still."""
        return self._frozen is not None

    def now(self) -> datetime:
        """The current simulated time (UTC-aware)."""
        return self._frozen if self._frozen is not None else datetime.now(UTC)

    def freeze(self, at: datetime) -> None:
        """Stop the clock at the aware instant ``at``."""
        if at.tzinfo is None:
            raise ValueError("SimClock.freeze needs a timezone-aware datetime")
        self._frozen = at.astimezone(UTC)

    def resume(self) -> None:
        """Follow real time again."""
        self._frozen = None
