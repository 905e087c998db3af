"""Helpers of the importer tests: vendor files written in the test, rows read back."""

from __future__ import annotations

import csv
import gzip
import io
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from alc_data import Database

#: 2024-03-07 15:00:00 UTC in nanoseconds (10:00 New York).
T0_NS = 1_709_823_600_000_000_000
T0 = datetime(2024, 3, 7, 15, 0, tzinfo=UTC)


def write_csv_gz(path: Path, header: Sequence[str], rows: Sequence[Sequence[object]]) -> Path:
    """A gzip CSV file with ``header`` and ``rows`` (rows may have the wrong width: bad)."""
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    path.write_bytes(gzip.compress(text.getvalue().encode()))
    return path


async def table_rows(db: Database, sql: str) -> list[tuple[object, ...]]:
    """Rows of ``sql`` as tuples."""
    async with db.raw() as conn:
        return [tuple(r) for r in await conn.fetch(sql)]


async def snapshot(db: Database) -> dict[str, list[tuple[object, ...]]]:
    """Every row an import writes, per table, in key order (to compare final states)."""
    queries = {
        "option_chains": "SELECT id, underlying_id, expiration_date, strike_price, option_type, "
        "trading_class, multiplier, contract_symbol FROM option_chains ORDER BY id",
        "underlying_securities": "SELECT id, symbol, sec_type FROM underlying_securities "
        "ORDER BY id",
        "market_data_ticks": "SELECT * FROM market_data_ticks ORDER BY contract_id, source_id, "
        "time",
        "stock_data_ticks": "SELECT * FROM stock_data_ticks ORDER BY underlying_id, source_id, "
        "time",
        "option_bars": "SELECT * FROM option_bars ORDER BY 1, 2, 3, 4, 5",
        "stock_bars": "SELECT * FROM stock_bars ORDER BY 1, 2, 3, 4, 5",
        "instrument_aliases": "SELECT source_id, instrument_kind, instrument_id, alias, "
        "valid_from FROM instrument_aliases ORDER BY 1, 4, 5",
    }
    return {name: await table_rows(db, sql) for name, sql in queries.items()}
