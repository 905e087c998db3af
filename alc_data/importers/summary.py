"""What an import did: rows read, written, duplicates, rejected by reason, bad records."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: Bad records kept with their file and record number (the rest are counted by reason).
KEEP_BAD_RECORDS = 100


@dataclass(frozen=True)
class BadRecord:
    """A record that was not imported: its file, its number (1 = the first record after any
    header) and why."""

    path: Path
    record: int
    reason: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: record {self.record}: {self.reason}: {self.message}"


@dataclass
class ImportSummary:
    """The counts of one import (over every file it was given).

    ``rows_read`` counts the files' records; ``rows_written`` the rows stored (a record may
    give several: a Cboe row is two snapshots, a bar and the underlying's quotes);
    ``duplicates`` rows already stored (a re-import, an overlapping file); ``collapsed`` rows
    of one contract in one microsecond replaced by the last of them; ``filtered`` records left
    out by ``symbols``/``start``/``end``; ``rejected`` bad records and rows by reason.
    """

    format: str
    source: str
    files: int = 0
    files_skipped: int = 0
    rows_read: int = 0
    rows_written: int = 0
    duplicates: int = 0
    collapsed: int = 0
    filtered: int = 0
    contracts_created: int = 0
    rejected: dict[str, int] = field(default_factory=dict)
    bad_records: list[BadRecord] = field(default_factory=list)

    @property
    def rejected_total(self) -> int:
        """Every rejection, whatever its reason."""
        return sum(self.rejected.values())

    def reject(self, bad: BadRecord) -> None:
        """Count ``bad`` by its reason and keep it while fewer than ``KEEP_BAD_RECORDS`` are."""
        self.rejected[bad.reason] = self.rejected.get(bad.reason, 0) + 1
        if len(self.bad_records) < KEEP_BAD_RECORDS:
            self.bad_records.append(bad)

    def as_json(self) -> dict[str, Any]:
        """A JSON-ready dict (the ``--json`` output)."""
        return {
            "format": self.format,
            "source": self.source,
            "files": self.files,
            "files_skipped": self.files_skipped,
            "rows_read": self.rows_read,
            "rows_written": self.rows_written,
            "duplicates": self.duplicates,
            "collapsed": self.collapsed,
            "filtered": self.filtered,
            "contracts_created": self.contracts_created,
            "rejected": dict(sorted(self.rejected.items())),
            "rejected_total": self.rejected_total,
            "bad_records": [
                {"path": str(b.path), "record": b.record, "reason": b.reason, "message": b.message}
                for b in self.bad_records
            ],
        }
