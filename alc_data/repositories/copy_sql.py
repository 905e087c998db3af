"""The SQL of the bulk writer for one target: COPY, the staging-table upsert, reference checks."""

from __future__ import annotations

from typing import Any

from alc_data.repositories.copy_target import CopyTarget


class CopySql:
    """Statements for one :class:`CopyTarget`, built once."""

    def __init__(self, target: CopyTarget) -> None:
        self.target = target
        cols = ", ".join(target.columns)
        self.stage = f"alc_stage_{target.table}"
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
        if not idempotent:
            await conn.copy_records_to_table(
                self.target.table, records=rows, columns=self.target.columns
            )
            return len(rows)
        async with conn.transaction():
            await conn.execute(self.create_stage)
            await conn.copy_records_to_table(self.stage, records=rows, columns=self.target.columns)
            status: str = await conn.execute(self.merge)
        return int(status.rsplit(" ", 1)[-1])
