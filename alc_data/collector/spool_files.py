"""The spool's files: the segment format, the database marker, quarantine, waiting spools.

Format (``alc-data-spool/1``): a segment is JSON lines: a header object ``{"format", "table",
"columns", "run_id", "created"}``, then one JSON array per row in the table's COPY column
order, with ``time`` as integer microseconds since the Unix epoch (UTC) and every other value
as JSON (floats round-trip exactly). A torn last line (a crash mid-write) is ignored when read;
any other line that does not decode is *unreadable*: the segment is then quarantined (moved to
``quarantine/`` beside the segments, with a report naming the unreadable line numbers), never
deleted, and its readable rows are replayed.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Any

from alc_data.errors import InvalidRowError

__all__ = [
    "FORMAT",
    "QUARANTINE",
    "Quarantined",
    "SegmentRows",
    "WaitingSpool",
    "decode_segment",
    "encode_rows",
    "read_marker",
    "scan_segment",
    "waiting_spools",
    "write_marker",
]

log = logging.getLogger(__name__)

FORMAT = "alc-data-spool/1"
QUARANTINE = "quarantine"
MARKER = "database.json"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass
class SegmentRows:
    """What a segment holds: its decodable rows and the line numbers that were not."""

    rows: list[tuple[Any, ...]] = field(default_factory=list)
    unreadable: list[int] = field(default_factory=list)
    torn_tail: bool = False


@dataclass(frozen=True)
class Quarantined:
    """A damaged segment moved out of the replay path."""

    path: Path
    table: str
    unreadable_lines: int
    replayed_rows: int

    def describe(self) -> str:
        """One line for a log or a terminal."""
        return (
            f"{self.path}: {self.unreadable_lines} unreadable lines kept for inspection, "
            f"{self.replayed_rows} readable rows replayed"
        )


@dataclass(frozen=True)
class WaitingSpool:
    """A spool directory holding rows that wait for their database."""

    directory: Path
    database: str
    segments: int
    rows: int
    size: int

    def describe(self) -> str:
        """One line for a log or a terminal."""
        return (
            f"{self.rows} rows ({self.segments} segments, {self.size} bytes) for "
            f"{self.database} wait in {self.directory}"
        )


# rows -> lines ----------------------------------------------------------------------------


def _micros(at: datetime) -> int:
    delta = at - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def encode_rows(
    columns: Sequence[str], rows: Sequence[Sequence[Any]]
) -> tuple[str, list[InvalidRowError]]:
    """The JSON lines of ``rows``, one per row, and the rows that cannot be serialized
    (each refused by name; the others are kept)."""
    time_at = list(columns).index("time")
    lines: list[str] = []
    refused: list[InvalidRowError] = []
    dumps = json.JSONEncoder(separators=(",", ":"), allow_nan=True).encode
    for row in rows:
        try:
            values = list(row)
            values[time_at] = _micros(values[time_at])
            lines.append(dumps(values))
        except (TypeError, ValueError, AttributeError, OverflowError) as exc:
            refused.append(InvalidRowError(f"cannot be written to the spool: {exc}", row))
    return ("\n".join(lines) + "\n") if lines else "", refused


def decode_segment(handle: IO[str]) -> SegmentRows:
    """Decode a segment's rows after its header (see the module doc)."""
    header = json.loads(handle.readline())
    time_at = header["columns"].index("time")
    result = SegmentRows()
    for number, line in enumerate(handle, start=2):
        if not line.endswith("\n"):
            result.torn_tail = True  # a crash mid-write: the batch was never acknowledged
            break
        try:
            values = json.loads(line)
            values[time_at] = _EPOCH + timedelta(microseconds=values[time_at])
        except (ValueError, TypeError, IndexError, OverflowError):
            result.unreadable.append(number)
            continue
        result.rows.append(tuple(values))
    return result


def scan_segment(path: Path) -> tuple[dict[str, Any] | None, int]:
    """(header, complete row lines) of a segment file; header None when it is not one."""
    with path.open(encoding="utf-8", errors="replace") as handle:
        first = handle.readline()
        try:
            header = json.loads(first)
        except json.JSONDecodeError:
            return None, 0
        rows = sum(1 for line in handle if line.endswith("\n"))
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        return None, 0
    return header, rows


def quarantine_file(directory: Path, path: Path, report: dict[str, Any]) -> Path:
    """Move ``path`` into ``directory/quarantine`` with a JSON report beside it."""
    target_dir = directory / QUARANTINE
    target_dir.mkdir(exist_ok=True)
    target = target_dir / path.name
    os.replace(path, target)
    (target_dir / (path.name + ".report.json")).write_text(
        json.dumps(report, indent=2) + "\n", encoding="utf-8"
    )
    return target


# which database ---------------------------------------------------------------------------


def write_marker(directory: Path, key: str, description: str) -> None:
    """Record which database the spool in ``directory`` belongs to."""
    marker = {"key": key, "database": description}
    (directory / MARKER).write_text(json.dumps(marker) + "\n", encoding="utf-8")


def read_marker(directory: Path) -> tuple[str, str] | None:
    """(key, description) of the spool's database, or None (new, or an older spool)."""
    with contextlib.suppress(OSError, ValueError, KeyError, TypeError):
        marker = json.loads((directory / MARKER).read_text(encoding="utf-8"))
        return str(marker["key"]), str(marker["database"])
    return None


def waiting_spools(root: Path, *, exclude: Path | None = None) -> list[WaitingSpool]:
    """The spools under ``root`` (database directories, then client directories) that hold
    rows, other than ``exclude``."""
    found = []
    for directory in sorted(root.glob("*/client-*")):
        if not directory.is_dir() or (exclude is not None and directory == exclude):
            continue
        files = [p for p in directory.iterdir() if p.suffix in (".seg", ".open")]
        counts = [scan_segment(p)[1] for p in files]
        if not files or not any(counts):
            continue
        marker = read_marker(directory)
        found.append(
            WaitingSpool(
                directory,
                marker[1] if marker else "a database this version cannot name (an older spool)",
                len(files),
                sum(counts),
                sum(p.stat().st_size for p in files),
            )
        )
    return found
