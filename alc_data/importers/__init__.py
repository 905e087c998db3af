"""Importing years of history from data vendors into the same schema as collected data.

Formats: ``databento`` (DBN files, read with Databento's ``databento-dbn``), ``massive``
(Massive/Polygon flat files), ``cboe-eod`` (Cboe DataShop Option EOD Summary). Example::

    from alc_data.importers import import_vendor_files
    summary = await import_vendor_files(db, "massive", [Path("2024-03-07.csv.gz")])
    print(summary.as_json())

Contracts are matched by natural key (a vendor's contract and the IB collector's are one
row), vendor ids kept as aliases, every row stamped with the vendor's source, files recorded
in ``import_files`` (a re-import skips them; an interrupted one is read again), bad records
counted by reason with their file and record number. See :mod:`.pipeline`.

Layer: above repositories, read and db; below the CLI.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from alc_data.db.database import Database
from alc_data.db.sources import SourceSpec
from alc_data.errors import ImportFormatError
from alc_data.importers.cboe import CboeEodParser
from alc_data.importers.databento import DatabentoParser
from alc_data.importers.massive import MassiveParser
from alc_data.importers.pipeline import ImportOptions, RecordParser, import_files, trades_source
from alc_data.importers.progress import ImportProgress
from alc_data.importers.summary import BadRecord, ImportSummary

__all__ = [
    "FORMATS",
    "BadRecord",
    "ImportOptions",
    "ImportProgress",
    "ImportSummary",
    "import_files",
    "import_vendor_files",
    "parser_for",
    "trades_source",
]

#: Format name -> (parser class, default source name).
FORMATS: dict[str, tuple[type[RecordParser], str]] = {
    "databento": (DatabentoParser, "databento"),
    "massive": (MassiveParser, "massive"),
    "cboe-eod": (CboeEodParser, "cboe-datashop"),
}


def parser_for(format_name: str) -> RecordParser:
    """A new parser of ``format_name``.

    Raises:
        ImportFormatError: an unknown format.
    """
    try:
        parser_type, _ = FORMATS[format_name]
    except KeyError:
        known = ", ".join(sorted(FORMATS))
        raise ImportFormatError(f"unknown format {format_name!r} (known: {known})") from None
    return parser_type()


async def import_vendor_files(
    db: Database,
    format_name: str,
    paths: Iterable[Path | str],
    *,
    source: str | SourceSpec | None = None,
    options: ImportOptions | None = None,
) -> ImportSummary:
    """Import vendor files of ``format_name`` (see the module doc).

    Args:
        db: the database.
        format_name: ``databento``, ``massive`` or ``cboe-eod``.
        paths: the files, imported in this order.
        source: the source the rows are recorded under (a name: a ``vendor`` source; default
            the format's vendor name).
        options: symbols, time window, progress display.
    """
    parser = parser_for(format_name)
    if not isinstance(source, SourceSpec):
        name = source or FORMATS[format_name][1]
        source = SourceSpec(name, "vendor", {"format": format_name})
    return await import_files(db, parser, [Path(p) for p in paths], source=source,
                              options=options)  # fmt: skip
