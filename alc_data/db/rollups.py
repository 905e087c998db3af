"""Refreshing the quote-bar rollups for a time window, on either backend.

On TimescaleDB the rollups are continuous aggregates refreshed with the
``refresh_continuous_aggregate`` procedure, which refuses to run inside a transaction block, so
it runs on an autocommit connection. On plain PostgreSQL they are tables recomputed by the
``refresh_rollup`` SQL function (the 5-minute rollup refreshes the 1-minute one first).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from alc_data.config import Backend
from alc_data.db.timeseries import ROLLUPS, rollup
from alc_data.db.translate import translated
from alc_data.errors import NaiveDatetimeError, SchemaError


@translated
async def recorded_backend(engine: AsyncEngine) -> Backend:
    """The backend recorded in ``alc_meta`` by the migrations.

    Raises:
        SchemaError: the schema is not migrated.
        DatabaseUnavailableError: the database cannot be reached.
    """
    async with engine.connect() as conn:
        value = None
        if await conn.scalar(text("SELECT to_regclass('alc_meta')")) is not None:
            value = await conn.scalar(text("SELECT value FROM alc_meta WHERE key = 'backend'"))
    if value is None:
        raise SchemaError("the schema is not migrated: run `alc-data db upgrade`")
    return Backend(value)


@translated
async def refresh_rollup(
    engine: AsyncEngine,
    name: str,
    start: datetime,
    end: datetime,
    *,
    backend: Backend | None = None,
) -> None:
    """Recompute rollup ``name`` for the buckets in ``[start, end)``."""
    rollup(name)  # KeyError for an unknown rollup, before touching the database
    for at in (start, end):
        if at.tzinfo is None:
            raise NaiveDatetimeError(f"naive datetime {at.isoformat()} (attach a time zone)")
    backend = backend or await recorded_backend(engine)
    params = {"name": name, "start": start, "end": end}
    if backend is Backend.TIMESCALE:
        async with engine.connect() as conn:
            auto = await conn.execution_options(isolation_level="AUTOCOMMIT")
            await auto.execute(
                text(
                    "CALL refresh_continuous_aggregate("
                    "CAST(:name AS regclass), CAST(:start AS timestamptz), "
                    "CAST(:end AS timestamptz))"
                ),
                params,
            )
    else:
        async with engine.begin() as conn:
            await conn.execute(text("SELECT refresh_rollup(:name, :start, :end)"), params)


@translated
async def refresh_all(engine: AsyncEngine, start: datetime, end: datetime) -> list[str]:
    """Refresh every rollup over ``[start, end)`` in dependency order; returns their names."""
    backend = await recorded_backend(engine)
    for spec in ROLLUPS:
        await refresh_rollup(engine, spec.name, start, end, backend=backend)
    return [spec.name for spec in ROLLUPS]
