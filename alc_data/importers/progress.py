"""Progress of an import: rows/s and an ETA from the share of the file's bytes consumed."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO


@dataclass(frozen=True)
class ImportProgress:
    """One progress report (every ``every`` records and at the end of each file)."""

    path: Path
    rows_read: int
    bytes_done: int
    bytes_total: int
    rows_per_second: float
    eta_seconds: float | None

    def render(self) -> str:
        """One terminal line: file, rows, rows/s, percent and ETA."""
        share = self.bytes_done / self.bytes_total if self.bytes_total else 1.0
        eta = f"{self.eta_seconds:,.0f} s" if self.eta_seconds is not None else "?"
        return (
            f"{self.path.name}: {self.rows_read:,} rows, {self.rows_per_second:,.0f} rows/s, "
            f"{share:.0%}, ETA {eta}"
        )


ProgressHook = Callable[[ImportProgress], None]


class ProgressMeter:
    """Measures one file's progress against a clock (injected in tests)."""

    def __init__(
        self,
        path: Path,
        raw: BinaryIO,
        total: int,
        hook: ProgressHook | None,
        clock: Callable[[], float] = time.monotonic,
        every: int = 100_000,
    ) -> None:
        self.path = path
        self.raw = raw
        self.total = total
        self.hook = hook
        self.clock = clock
        self.every = every
        self.started = clock()
        self.next_report = every

    def tick(self, rows: int, *, final: bool = False) -> None:
        """Report when ``rows`` reached the next multiple of ``every`` (or at the end)."""
        if self.hook is None or (rows < self.next_report and not final):
            return
        self.next_report = rows + self.every
        elapsed = max(self.clock() - self.started, 1e-9)
        done = self.total if final else min(self.raw.tell(), self.total)
        rate = rows / elapsed
        eta = None
        if done:
            eta = elapsed * (self.total - done) / done
        self.hook(ImportProgress(self.path, rows, done, self.total, rate, eta))
