"""Opening vendor text files: plain, gzip or zip (the first member), as CSV rows."""

from __future__ import annotations

import csv
import gzip
import io
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import BinaryIO

from alc_data.errors import ImportFormatError

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_GZIP_MAGIC = b"\x1f\x8b"
_ZIP_MAGIC = b"PK\x03\x04"


def text_stream(raw: BinaryIO, path: Path) -> io.TextIOWrapper:
    """A text stream over ``raw``, decompressing gzip or the first member of a zip."""
    head = raw.read(4)
    raw.seek(0)
    binary: BinaryIO
    if head.startswith(_GZIP_MAGIC):
        binary = gzip.GzipFile(fileobj=raw, mode="rb")  # type: ignore[assignment]
    elif head.startswith(_ZIP_MAGIC):
        archive = zipfile.ZipFile(raw)
        members = [m for m in archive.namelist() if not m.endswith("/")]
        if not members:
            raise ImportFormatError(f"{path}: empty zip archive")
        binary = archive.open(members[0])  # type: ignore[assignment]
    else:
        binary = raw
    return io.TextIOWrapper(binary, encoding="utf-8", newline="")


def csv_rows(
    raw: BinaryIO, path: Path, required: frozenset[str]
) -> tuple[list[str], Iterator[list[str]]]:
    """The header and the rows of a CSV file; ``required`` columns must be in the header."""
    reader = csv.reader(text_stream(raw, path))
    try:
        header = [h.strip().lower() for h in next(reader)]
    except (StopIteration, UnicodeDecodeError, OSError, EOFError) as exc:
        raise ImportFormatError(f"{path}: no CSV header ({exc})") from exc
    missing = required - set(header)
    if missing:
        raise ImportFormatError(f"{path}: missing columns {sorted(missing)}")
    return header, reader


def nanos_to_time(nanos: int) -> datetime:
    """UTC time of nanoseconds since the epoch, truncated to the microsecond."""
    return EPOCH + timedelta(microseconds=nanos // 1000)


def opt_float(text: str) -> float | None:
    """A float, or None for an empty field."""
    return float(text) if text else None


def opt_int(text: str) -> int | None:
    """An int (``"12.0"`` too), or None for an empty field."""
    if not text:
        return None
    try:
        return int(text)
    except ValueError:
        return int(float(text))
