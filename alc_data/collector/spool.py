"""A bounded on-disk spool for rows accepted while the database is unreachable.

Format (``alc-data-spool/1``): a directory of segment files, one table per segment. A
segment is JSON lines: a header object ``{"format", "table", "columns", "run_id",
"created"}``, then one JSON array per row in the table's COPY column order, with ``time``
as integer microseconds since the Unix epoch (UTC) and every other value as JSON (floats
round-trip exactly). A segment being written is named ``<seq>-<table>.open``; it is sealed
(fsync, then renamed to ``<seq>-<table>.seg``) when it reaches ``segment_rows`` rows or
when it is about to be replayed. Each appended batch is flushed to the operating system at
once, so a crash of the collector loses nothing that was appended; a power loss can lose
the unsealed tail. A torn last line (a crash mid-write) is ignored when read.

Replay order is segment order (oldest first); a replayed segment is deleted only after the
database confirmed it, and replays use the writer's idempotent path, so a crash between the
two stores nothing twice.

Bound and shed policy: the spool never grows beyond ``max_bytes``. A batch that does not fit
is *shed*: refused whole, counted in :attr:`Spool.shed_rows`, and logged at ERROR (once
when shedding starts, then at most every 10 s with the running count). The oldest rows are
never deleted to make room: what is already on disk is kept and a gap opens at the end,
which a backtest can see (the spool says when it started shedding). A warning is logged
when the spool passes 80 % of its bound.

One collector at a time owns a spool directory (an exclusive ``flock`` on ``spool.lock``).
A spool belongs to one database: ``database.json`` in the directory names it (by the server's
system identifier and the database name, see :meth:`alc_data.Database.identity`), and a
spool is never opened for another database. :func:`waiting_spools` lists the spools under a
root that hold rows for other databases, so that a collector can say so at start.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Any

from alc_data.errors import AlcDataError

__all__ = [
    "FORMAT",
    "ForeignSpoolError",
    "Segment",
    "Spool",
    "SpoolLockedError",
    "WaitingSpool",
    "waiting_spools",
]

log = logging.getLogger(__name__)

FORMAT = "alc-data-spool/1"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_SHED_LOG_EVERY = 10.0


class SpoolLockedError(AlcDataError):
    """Another collector owns this spool directory."""


class ForeignSpoolError(AlcDataError):
    """The spool directory holds rows for another database."""


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


_MARKER = "database.json"


def waiting_spools(root: Path, *, exclude: Path | None = None) -> list[WaitingSpool]:
    """The spools under ``root`` (one level of database directories, then client
    directories) that hold rows, other than ``exclude``."""
    found = []
    for directory in sorted(root.glob("*/client-*")):
        if not directory.is_dir() or (exclude is not None and directory == exclude):
            continue
        files = [p for p in directory.iterdir() if p.suffix in (".seg", ".open")]
        counts = [_scan(p)[1] for p in files]
        if not files or not any(counts):
            continue
        found.append(
            WaitingSpool(
                directory,
                _marker(directory) or "a database this version cannot name (an older spool)",
                len(files),
                sum(counts),
                sum(p.stat().st_size for p in files),
            )
        )
    return found


def _marker(directory: Path) -> str | None:
    with contextlib.suppress(OSError, ValueError, KeyError, TypeError):
        return str(json.loads((directory / _MARKER).read_text(encoding="utf-8"))["database"])
    return None


def _marker_key(directory: Path) -> str | None:
    with contextlib.suppress(OSError, ValueError, KeyError, TypeError):
        return str(json.loads((directory / _MARKER).read_text(encoding="utf-8"))["key"])
    return None


@dataclass
class Segment:
    """One segment file on disk."""

    path: Path
    seq: int
    table: str
    rows: int
    size: int
    run_id: str | None
    sealed: bool


def _micros(at: datetime) -> int:
    delta = at - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def _from_micros(value: int) -> datetime:
    return _EPOCH + timedelta(microseconds=value)


class Spool:
    """The spool in ``directory`` (see the module doc).

    Args:
        directory: created if missing; segments a crashed run left there are picked up.
        max_bytes: the bound; batches that would exceed it are shed.
        segment_rows: rows after which the current segment of a table is sealed.
        run_id: written into each header, so that replays can tell this run's rows
            from a previous run's.
    """

    def __init__(
        self, directory: Path, *, max_bytes: int, segment_rows: int = 50_000, run_id: str
    ) -> None:
        self.directory = directory
        self.max_bytes = max_bytes
        self.segment_rows = segment_rows
        self.run_id = run_id
        self.shed_rows = 0
        self.shedding_since: datetime | None = None
        self._segments: dict[Path, Segment] = {}
        self._open: dict[str, tuple[Segment, IO[str]]] = {}
        self._lock_file: IO[str] | None = None
        self._next_seq = 0
        self._warned_high = False
        self._last_shed_log = 0.0

    # lifecycle --------------------------------------------------------------------------

    def open(self, database: tuple[str, str] | None = None) -> None:
        """Lock the directory and index the segments already in it.

        Args:
            database: ``(key, description)`` of the database this spool belongs to; recorded
                in the directory on first use and checked on every later one.

        Raises:
            SpoolLockedError: another live collector holds the directory.
            ForeignSpoolError: the directory belongs to another database.
        """
        self.directory.mkdir(parents=True, exist_ok=True)
        if database is not None:
            self._claim(*database)
        lock = (self.directory / "spool.lock").open("a")
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock.close()
            raise SpoolLockedError(
                f"the spool {self.directory} is in use by another collector; "
                "give each collector its own spool directory"
            ) from None
        self._lock_file = lock
        for path in sorted(self.directory.glob("*-*.*")):
            if path.suffix in (".seg", ".open"):
                self._index(path)
        if self._segments:
            log.warning("spool %s holds %d rows from an earlier run; they will be replayed",
                        self.directory, self.rows)  # fmt: skip

    def _claim(self, key: str, description: str) -> None:
        owner = _marker_key(self.directory)
        if owner is not None and owner != key:
            raise ForeignSpoolError(
                f"the spool {self.directory} holds rows for {_marker(self.directory)}, not "
                f"for {description}: point the collector at that database to replay them"
            )
        if owner is None:
            marker = {"key": key, "database": description}
            (self.directory / _MARKER).write_text(json.dumps(marker) + "\n", encoding="utf-8")

    def _index(self, path: Path) -> None:
        seq_text, _, table = path.stem.partition("-")
        header, rows = _scan(path)
        if header is None or header.get("format") != FORMAT:
            log.error("spool: ignoring %s (not an %s segment)", path, FORMAT)
            return
        seg = Segment(path, int(seq_text), table, rows, path.stat().st_size,
                      header.get("run_id"), path.suffix == ".seg")  # fmt: skip
        self._segments[path] = seg
        self._next_seq = max(self._next_seq, seg.seq + 1)

    def close(self) -> None:
        """Seal the open segments and release the directory."""
        for table in list(self._open):
            self._seal(table)
        if self._lock_file is not None:
            self._lock_file.close()
            self._lock_file = None

    # state ------------------------------------------------------------------------------

    @property
    def rows(self) -> int:
        """Rows on disk."""
        return sum(s.rows for s in self._segments.values())

    @property
    def size(self) -> int:
        """Bytes on disk."""
        return sum(s.size for s in self._segments.values())

    @property
    def full(self) -> bool:
        """True while batches are being shed."""
        return self.shedding_since is not None

    def __len__(self) -> int:
        return len(self._segments)

    # writing ----------------------------------------------------------------------------

    def append(self, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> int:
        """Append a batch of rows of ``table``; returns how many were spooled (0 when shed)."""
        if not rows:
            return 0
        time_at = list(columns).index("time")
        lines = [json.dumps(_encode(row, time_at), separators=(",", ":")) for row in rows]
        data = "\n".join(lines) + "\n"
        size = len(data.encode())
        if self.size + size > self.max_bytes:
            self._shed(len(rows))
            return 0
        if self.shedding_since is not None:
            log.error("spool: space again after shedding %d rows since %s",
                      self.shed_rows, self.shedding_since.isoformat())  # fmt: skip
            self.shedding_since = None
        seg, handle = self._current(table, columns)
        handle.write(data)
        handle.flush()
        seg.rows += len(rows)
        seg.size += size
        if seg.rows >= self.segment_rows:
            self._seal(table)
        self._warn_if_high()
        return len(rows)

    def _current(self, table: str, columns: Sequence[str]) -> tuple[Segment, IO[str]]:
        if table in self._open:
            return self._open[table]
        path = self.directory / f"{self._next_seq:012d}-{table}.open"
        header = {"format": FORMAT, "table": table, "columns": list(columns),
                  "run_id": self.run_id, "created": datetime.now(UTC).isoformat()}  # fmt: skip
        handle = path.open("w", encoding="utf-8")
        text = json.dumps(header) + "\n"
        handle.write(text)
        handle.flush()
        seg = Segment(path, self._next_seq, table, 0, len(text.encode()), self.run_id, False)
        self._next_seq += 1
        self._segments[path] = seg
        self._open[table] = (seg, handle)
        return seg, handle

    def _seal(self, table: str) -> None:
        seg, handle = self._open.pop(table)
        handle.flush()
        os.fsync(handle.fileno())
        handle.close()
        sealed = seg.path.with_suffix(".seg")
        seg.path.rename(sealed)
        del self._segments[seg.path]
        seg.path, seg.sealed = sealed, True
        self._segments[sealed] = seg
        with contextlib.suppress(OSError):  # make the rename durable where supported
            fd = os.open(self.directory, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)

    def _shed(self, n: int) -> None:
        self.shed_rows += n
        now = time.monotonic()
        if self.shedding_since is None:
            self.shedding_since = datetime.now(UTC)
            self._last_shed_log = now
            log.error("SPOOL FULL (%d of %d bytes in %s): shedding new rows until the "
                      "database is back; the spooled rows are kept", self.size,
                      self.max_bytes, self.directory)  # fmt: skip
        elif now - self._last_shed_log >= _SHED_LOG_EVERY:
            self._last_shed_log = now
            log.error("SPOOL FULL: %d rows shed so far", self.shed_rows)

    def _warn_if_high(self) -> None:
        high = self.size > 0.8 * self.max_bytes
        if high and not self._warned_high:
            log.warning("spool %s is over 80%% of its %d-byte bound", self.directory,
                        self.max_bytes)  # fmt: skip
        self._warned_high = high

    # replaying --------------------------------------------------------------------------

    def oldest(self) -> Segment | None:
        """The oldest segment, sealing it first when it is still open (None: empty)."""
        if not self._segments:
            return None
        seg = min(self._segments.values(), key=lambda s: s.seq)
        if not seg.sealed and seg.table in self._open and self._open[seg.table][0] is seg:
            self._seal(seg.table)
        return seg

    def read(self, seg: Segment) -> list[tuple[Any, ...]]:
        """The rows of a segment (times decoded, column order as written)."""
        with seg.path.open(encoding="utf-8") as handle:
            header = json.loads(handle.readline())
            time_at = header["columns"].index("time")
            return list(_decode_lines(handle, time_at))

    def remove(self, seg: Segment) -> None:
        """Delete a segment whose rows the database has confirmed."""
        self._segments.pop(seg.path, None)
        seg.path.unlink(missing_ok=True)


def _encode(row: Sequence[Any], time_at: int) -> list[Any]:
    values = list(row)
    values[time_at] = _micros(values[time_at])
    return values


def _decode_lines(handle: IO[str], time_at: int) -> Iterator[tuple[Any, ...]]:
    for line in handle:
        if not line.endswith("\n"):
            log.warning("spool: ignoring a torn last line")
            return
        values = json.loads(line)
        values[time_at] = _from_micros(values[time_at])
        yield tuple(values)


def _scan(path: Path) -> tuple[dict[str, Any] | None, int]:
    """(header, complete row lines) of a segment file."""
    with path.open(encoding="utf-8", errors="replace") as handle:
        first = handle.readline()
        try:
            header = json.loads(first)
        except json.JSONDecodeError:
            return None, 0
        rows = sum(1 for line in handle if line.endswith("\n"))
    return header, rows
