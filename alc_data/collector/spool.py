"""A bounded on-disk spool for rows accepted while the database is unreachable.

A directory of segment files, one table per segment, in the format of
:mod:`~alc_data.collector.spool_files`. A segment being written is named
``<seq>-<table>.open``; it is sealed (fsync, then renamed to ``<seq>-<table>.seg``) when it
reaches ``segment_rows`` rows or when it is about to be replayed. Each appended batch is
flushed to the operating system at once, so a crash of the collector loses nothing that was
appended; a power loss can lose the unsealed tail. Rows are serialized one by one: a row that
cannot be is refused by name and the rest of its batch is kept.

Replay order is segment order (oldest first); a replayed segment is deleted only after the
database confirmed it, and replays use the writer's idempotent path, so a crash between the
two stores nothing twice. A damaged segment (an unreadable line, or a header that is not
one) is quarantined beside the spool and reported with its path and the count of unreadable
lines; its readable rows and every other segment are replayed.

Bound and shed policy: the spool never grows beyond ``max_bytes``. A batch that does not fit
is *shed*: refused whole, counted in :attr:`Spool.shed_rows`, and logged at ERROR (once
when shedding starts, then at most every 10 s with the running count). The oldest rows are
never deleted to make room: what is already on disk is kept and a gap opens at the end,
which a backtest can see (the spool says when it started shedding). A warning is logged
when the spool passes 80 % of its bound.

The methods do blocking disk work: the collector calls them in a worker thread, one call at
a time; :attr:`rows`, :attr:`size` and :attr:`full` are safe to read from any thread.

One collector at a time owns a spool directory (an exclusive ``flock`` on ``spool.lock``).
A spool belongs to one database: ``database.json`` in the directory names it (by the server's
system identifier and the database name, see :meth:`alc_data.Database.identity`), and a
spool is never opened for another database.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from alc_data.collector.spool_files import (
    FORMAT,
    Quarantined,
    SegmentRows,
    WaitingSpool,
    decode_segment,
    encode_rows,
    quarantine_file,
    read_marker,
    scan_segment,
    waiting_spools,
    write_marker,
)
from alc_data.errors import AlcDataError, InvalidRowError

__all__ = [
    "FORMAT",
    "Appended",
    "ForeignSpoolError",
    "Quarantined",
    "Segment",
    "Spool",
    "SpoolLockedError",
    "WaitingSpool",
    "waiting_spools",
]

log = logging.getLogger(__name__)

_SHED_LOG_EVERY = 10.0


class SpoolLockedError(AlcDataError):
    """Another collector owns this spool directory."""


class ForeignSpoolError(AlcDataError):
    """The spool directory holds rows for another database."""


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


@dataclass
class Appended:
    """What became of a batch given to :meth:`Spool.append`."""

    spooled: int = 0
    shed: int = 0
    refused: list[InvalidRowError] = field(default_factory=list)


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
        self.quarantined: list[Quarantined] = []
        self.rows = 0  #: rows on disk (running total)
        self.size = 0  #: bytes on disk (running total)
        self._segments: dict[Path, Segment] = {}
        self._open: dict[str, tuple[Segment, IO[str]]] = {}
        self._lock_file: IO[str] | None = None
        self._next_seq = 0
        self._warned_high = False
        self._last_shed_log = 0.0

    # lifecycle --------------------------------------------------------------------------

    def open(self, database: tuple[str, str] | None = None) -> None:
        """Lock the directory and index the segments already in it (quarantining the ones
        whose header is damaged).

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
        owner = read_marker(self.directory)
        if owner is None:
            write_marker(self.directory, key, description)
        elif owner[0] != key:
            raise ForeignSpoolError(
                f"the spool {self.directory} holds rows for {owner[1]}, not for "
                f"{description}: point the collector at that database to replay them"
            )

    def _index(self, path: Path) -> None:
        seq_text, _, table = path.stem.partition("-")
        header, rows = scan_segment(path)
        if header is None or not seq_text.isdigit():
            self._quarantine_path(path, table, unreadable=1, replayed=0, why="no valid header")
            return
        seg = Segment(path, int(seq_text), table, rows, path.stat().st_size,
                      header.get("run_id"), path.suffix == ".seg")  # fmt: skip
        self._add(seg)
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
    def full(self) -> bool:
        """True while batches are being shed."""
        return self.shedding_since is not None

    def __len__(self) -> int:
        return len(self._segments)

    def _add(self, seg: Segment) -> None:
        self._segments[seg.path] = seg
        self.rows += seg.rows
        self.size += seg.size

    def _drop(self, seg: Segment) -> None:
        if self._segments.pop(seg.path, None) is not None:
            self.rows -= seg.rows
            self.size -= seg.size

    # writing ----------------------------------------------------------------------------

    def append(self, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> Appended:
        """Append a batch of rows of ``table``: each row is spooled, shed (the batch does not
        fit) or refused (it cannot be serialized)."""
        data, refused = encode_rows(columns, rows)
        result = Appended(refused=refused)
        count = len(rows) - len(refused)
        if not count:
            return result
        size = len(data.encode())
        if self.size + size > self.max_bytes:
            self._shed(count)
            result.shed = count
            return result
        if self.shedding_since is not None:
            log.error("spool: space again after shedding %d rows since %s",
                      self.shed_rows, self.shedding_since.isoformat())  # fmt: skip
            self.shedding_since = None
        seg, handle = self._current(table, columns)
        handle.write(data)
        handle.flush()
        seg.rows += count
        seg.size += size
        self.rows += count
        self.size += size
        result.spooled = count
        if seg.rows >= self.segment_rows:
            self._seal(table)
        self._warn_if_high()
        return result

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
        self._add(seg)
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
        self._sync_directory()

    def _sync_directory(self) -> None:
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

    def read(self, seg: Segment) -> SegmentRows:
        """The rows of a segment (times decoded, column order as written) and the numbers
        of its unreadable lines."""
        with seg.path.open(encoding="utf-8", errors="replace") as handle:
            return decode_segment(handle)

    def remove(self, seg: Segment, content: SegmentRows | None = None) -> None:
        """Retire a segment whose readable rows the database has confirmed: deleted, or
        quarantined when ``content`` (what :meth:`read` gave) names unreadable lines."""
        self._drop(seg)
        if content is not None and content.unreadable:
            self._quarantine_path(
                seg.path, seg.table, unreadable=len(content.unreadable),
                replayed=len(content.rows), why="unreadable lines", lines=content.unreadable,
            )  # fmt: skip
            return
        seg.path.unlink(missing_ok=True)

    def _quarantine_path(
        self,
        path: Path,
        table: str,
        *,
        unreadable: int,
        replayed: int,
        why: str,
        lines: list[int] | None = None,
    ) -> None:
        report = {"segment": path.name, "table": table, "reason": why,
                  "unreadable_lines": lines or [], "readable_rows_replayed": replayed,
                  "quarantined_at": datetime.now(UTC).isoformat()}  # fmt: skip
        target = quarantine_file(self.directory, path, report)
        item = Quarantined(target, table, unreadable, replayed)
        self.quarantined.append(item)
        log.error("spool: quarantined a damaged segment (%s): %s", why, item.describe())
