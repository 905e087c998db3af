"""Per-file import progress in ``import_files``: skip what is done, count attempts.

A file is known by its content (size and SHA-256), not its path: a renamed copy is not
imported twice, and a file rewritten in place (an overlapping, longer download) is imported
again, writing only what is new.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from sqlalchemy import text

from alc_data.db.database import Database

_CHUNK = 1 << 20

_STATUS = text(
    "SELECT status FROM import_files "
    "WHERE source_id = :source_id AND format = :format AND fingerprint = :fingerprint"
)
_BEGIN = text(
    """
    INSERT INTO import_files (source_id, format, fingerprint, path, status, attempts)
    VALUES (:source_id, :format, :fingerprint, :path, 'running', 1)
    ON CONFLICT (source_id, format, fingerprint)
    DO UPDATE SET status = 'running', attempts = import_files.attempts + 1,
                  path = EXCLUDED.path, started_at = now(), completed_at = NULL
    """
)
_FINISH = text(
    """
    UPDATE import_files SET status = 'done', rows_read = :rows_read,
           rows_written = :rows_written, duplicates = :duplicates,
           rejected = CAST(:rejected AS jsonb), completed_at = now()
    WHERE source_id = :source_id AND format = :format AND fingerprint = :fingerprint
    """
)


def fingerprint(path: Path) -> str:
    """``size:sha256`` of the file's bytes (read in 1 MiB pieces)."""
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as handle:
        while piece := handle.read(_CHUNK):
            digest.update(piece)
            size += len(piece)
    return f"{size}:{digest.hexdigest()}"


class ImportLedger:
    """The ``import_files`` rows of one source and format."""

    def __init__(self, db: Database, source_id: int, format_name: str) -> None:
        self.db = db
        self.key = {"source_id": source_id, "format": format_name}

    async def is_done(self, print_: str) -> bool:
        """True when the file with fingerprint ``print_`` was imported completely."""
        async with self.db.begin() as conn:
            status = await conn.scalar(_STATUS, {**self.key, "fingerprint": print_})
        return bool(status == "done")

    async def begin(self, print_: str, path: Path) -> None:
        """Mark the file ``running`` (a crash leaves it so: it is read again next time)."""
        async with self.db.begin() as conn:
            await conn.execute(_BEGIN, {**self.key, "fingerprint": print_, "path": str(path)})

    async def finish(
        self,
        print_: str,
        *,
        rows_read: int,
        rows_written: int,
        duplicates: int,
        rejected: dict[str, int],
    ) -> None:
        """Mark the file ``done`` with its counts (after every row of it was written)."""
        async with self.db.begin() as conn:
            await conn.execute(
                _FINISH,
                {
                    **self.key,
                    "fingerprint": print_,
                    "rows_read": rows_read,
                    "rows_written": rows_written,
                    "duplicates": duplicates,
                    "rejected": json.dumps(rejected),
                },
            )
