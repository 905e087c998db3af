"""The SQL of the bulk writer for one target: COPY, the staging-table upsert, reference checks."""

from __future__ import annotations

from typing import Any

from alc_data.repositories.copy_target import CopyTarget


class CopySql:
    """Statements for one :class:`CopyTarget`, built once.

    ``source_id``: the ``data_sources`` id stamped on every row written (appended to each row
    as the last COPY column); None leaves the column to its default (``unspecified``).
    """

    def __init__(self, target: CopyTarget, source_id: int | None = None) -> None:
        self.target = target
        self.source_id = source_id
        self.columns = (*target.columns, "source_id") if source_id is not None else target.columns
        self._suffix = (source_id,)
        cols = ", ".join(self.columns)
        # Writers with and without a source may share a pooled connection: their staging
        # tables have different columns, so they have different names.
        suffix = "_sourced" if source_id is not None else ""
        self.stage = f"alc_stage_{target.table}{suffix}"
        # A temporary table per connection, emptied at each commit; created only once.
        self.create_stage = (
            "DO $$ BEGIN "
            f"IF to_regclass('pg_temp.{self.stage}') IS NULL THEN "
            f"CREATE TEMP TABLE {self.stage} ON COMMIT DELETE ROWS AS "
            f"SELECT {cols} FROM {target.table} WITH NO DATA; "
            "END IF; END $$"
        )
        self.merge = (
            f"INSERT INTO {target.table} ({cols}) SELECT {cols} FROM {self.stage} "
            f"ON CONFLICT ({', '.join(target.key)}) DO NOTHING"
        )
        self.known_refs = f"SELECT id FROM {target.ref_table} WHERE id = ANY($1::bigint[])"
        self.ensure_partition = "SELECT alc_ensure_partition($1::text, $2::timestamptz)"

    async def write(self, conn: Any, rows: list[tuple[Any, ...]], *, idempotent: bool) -> int:
        """Write ``rows`` on the asyncpg connection ``conn``; returns how many were inserted."""
        records: list[tuple[Any, ...]] = (
            rows if self.source_id is None else [row + self._suffix for row in rows]
        )
        if not idempotent:
            await conn.copy_records_to_table(
                self.target.table, records=records, columns=self.columns
            )
            return len(rows)
        async with conn.transaction():
            await conn.execute(self.create_stage)
            await conn.copy_records_to_table(self.stage, records=records, columns=self.columns)
            status: str = await conn.execute(self.merge)
        return int(status.rsplit(" ", 1)[-1])
