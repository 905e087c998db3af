"""The ``data_sources`` table: registering where rows come from, and counting rows per source.

A source is a name (unique), a kind (``broker``, ``simulator``, ``vendor``, ``user``;
``unknown`` only for ``legacy``, the rows stored before provenance was recorded) and details
(account type, market-data types, vendor dataset). Writers stamp every row with the id that
:func:`register_source` returns (revision 0006 explains the keys).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from alc_data.db.translate import translating
from alc_data.errors import InvalidRowError

#: Seeded by revision 0006.
LEGACY = "legacy"
UNSPECIFIED = "unspecified"
KINDS = frozenset({"broker", "simulator", "vendor", "user"})

#: Tables whose rows carry a ``source_id``.
SOURCED_TABLES = (
    "market_data_ticks",
    "stock_data_ticks",
    "option_bars",
    "stock_bars",
    "history_requests",
    "arbitrage_opportunities",
)


@dataclass(frozen=True)
class SourceSpec:
    """What a writer says about where its rows come from."""

    name: str
    kind: str
    details: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise InvalidRowError(f"source kind must be one of {sorted(KINDS)}", self.kind)
        if not 0 < len(self.name) <= 64 or self.name in (LEGACY, UNSPECIFIED):
            raise InvalidRowError(
                "source name must be 1-64 characters, not a reserved one", self.name
            )


_REGISTER = text(
    """
    INSERT INTO data_sources (name, kind, details, first_written, last_written)
    VALUES (:name, :kind, CAST(:details AS jsonb), now(), now())
    ON CONFLICT (name) DO UPDATE
       SET details = data_sources.details || EXCLUDED.details,
           first_written = coalesce(data_sources.first_written, EXCLUDED.first_written),
           last_written = EXCLUDED.last_written
    RETURNING id, kind
    """
)


async def register_source(db: AsyncEngine | AsyncConnection, spec: SourceSpec) -> int:
    """The id of ``spec``'s source, created on first use; its details are merged and its
    ``last_written`` set to now.

    Raises:
        InvalidRowError: a source of that name exists with another kind.
        SchemaError: the database is not migrated to revision 0006 or later.
        DatabaseUnavailableError: the database cannot be reached.
    """
    params = {"name": spec.name, "kind": spec.kind, "details": json.dumps(spec.details)}
    with translating():  # unreachable: DatabaseUnavailableError; before 0006: SchemaError
        if isinstance(db, AsyncEngine):
            async with db.begin() as conn:
                row = (await conn.execute(_REGISTER, params)).one()
        else:
            row = (await db.execute(_REGISTER, params)).one()
    if row.kind != spec.kind:
        raise InvalidRowError(f"source {spec.name!r} is a {row.kind} source", spec.kind)
    return int(row.id)


async def describe_sources(conn: AsyncConnection) -> list[dict[str, Any]]:
    """Every source with its kind, details, first/last written and rows per table (exact
    counts: a scan of each table), JSON-ready; empty before revision 0006."""
    counts = await rows_per_source(conn)
    if await conn.scalar(text("SELECT to_regclass('data_sources')")) is None:
        return []
    rows = await conn.execute(
        text(
            "SELECT name, kind, details, first_written, last_written FROM data_sources ORDER BY id"
        )
    )
    return [
        {
            "name": r.name,
            "kind": r.kind,
            "details": r.details,
            "first_written": r.first_written.isoformat() if r.first_written else None,
            "last_written": r.last_written.isoformat() if r.last_written else None,
            "rows": counts.get(r.name, {}),
        }
        for r in rows
    ]


def render_sources(sources: list[dict[str, Any]]) -> list[str]:
    """Terminal lines: one per source that holds rows, with its rows per table."""
    lines = ["sources (rows per table)"]
    for s in sources:
        if not s["rows"]:
            continue
        per_table = ", ".join(f"{t} {n:,}" for t, n in s["rows"].items())
        lines.append(f"  {s['name']:<16} {s['kind']:<9} {per_table}")
    if len(lines) == 1:
        lines.append("  (no rows yet)")
    return lines


async def rows_per_source(conn: AsyncConnection) -> dict[str, dict[str, int]]:
    """Per source name: rows per table (tables without rows of it are left out)."""
    out: dict[str, dict[str, int]] = {}
    if await conn.scalar(text("SELECT to_regclass('data_sources')")) is None:
        return out
    for table in SOURCED_TABLES:
        rows = await conn.execute(
            text(
                f"SELECT s.name, count(*) FROM {table} t JOIN data_sources s "
                "ON s.id = t.source_id GROUP BY s.name ORDER BY s.name"
            )
        )
        for name, count in rows:
            out.setdefault(str(name), {})[table] = int(count)
    return out
