"""``alc-data db maintain``: partitions ahead, rollups refreshed, retention applied.

On plain PostgreSQL this is the whole of the database's upkeep, run from cron or a timer:

- partitions: tick partitions from yesterday to ``ahead_days`` ahead (so that a raw
  ``INSERT`` of today's rows always finds one), and the current and next month
  of bar and rollup partitions, so writers rarely have to create one on the fly;
- rollups: ``market_data_1min`` / ``market_data_5min`` / ``stock_data_1min`` recomputed over
  ``[now - refresh_hours, now)`` (plus whatever window a caller asks for);
- retention: with ``ALC_RETENTION_DAYS`` set, tick partitions that end before ``now - days``
  are dropped (bars are kept: they cannot be downloaded again once an option expires).

On TimescaleDB the policies do this in background workers; ``maintain`` refreshes the
continuous aggregates over the same window and, with retention configured, drops the old tick
chunks now, so that it is useful where background workers do not run.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from alc_data.config import Backend
from alc_data.db.rollups import recorded_backend, refresh_rollup
from alc_data.db.timeseries import BAR_TABLES, ROLLUP_TABLES, ROLLUPS, TICK_TABLES
from alc_data.db.translate import translated


@dataclass
class MaintenanceReport:
    """What one maintenance run did."""

    backend: str
    partitions_created: dict[str, int] = field(default_factory=dict)
    rollups_refreshed: list[str] = field(default_factory=list)
    refresh_window: tuple[str, str] | None = None
    partitions_dropped: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@translated
async def maintain(
    engine: AsyncEngine,
    *,
    retention_days: int | None,
    ahead_days: int = 7,
    refresh_hours: float = 48,
    now: datetime | None = None,
) -> MaintenanceReport:
    """Run every maintenance step once and report what it did."""
    now = now or datetime.now(UTC)
    backend = await recorded_backend(engine)
    report = MaintenanceReport(backend=backend.value)
    if backend is Backend.POSTGRES:
        report.partitions_created = await _create_ahead(engine, now, ahead_days)
    start = now - timedelta(hours=refresh_hours)
    for spec in ROLLUPS:
        await refresh_rollup(engine, spec.name, start, now, backend=backend)
        report.rollups_refreshed.append(spec.name)
    report.refresh_window = (start.isoformat(), now.isoformat())
    if retention_days is not None:
        report.partitions_dropped = await _apply_retention(
            engine, backend, now - timedelta(days=retention_days)
        )
    return report


async def _create_ahead(engine: AsyncEngine, now: datetime, ahead_days: int) -> dict[str, int]:
    created: dict[str, int] = {}
    month_ahead = (now.replace(day=1) + timedelta(days=32)).replace(day=1)
    async with engine.begin() as conn:
        for spec in TICK_TABLES:
            created[spec.name] = await conn.scalar(
                text("SELECT create_partition_range(:t, :a, :b)"),
                {
                    "t": spec.name,
                    "a": now - timedelta(days=1),
                    "b": now + timedelta(days=ahead_days),
                },
            )
        for spec in BAR_TABLES + ROLLUP_TABLES:
            created[spec.name] = await conn.scalar(
                text("SELECT create_partition_range(:t, :a, :b)"),
                {"t": spec.name, "a": now, "b": month_ahead},
            )
    return created


async def _apply_retention(
    engine: AsyncEngine, backend: Backend, cutoff: datetime
) -> dict[str, int]:
    dropped: dict[str, int] = {}
    async with engine.begin() as conn:
        for spec in TICK_TABLES:
            if backend is Backend.TIMESCALE:
                result = await conn.execute(
                    text(
                        "SELECT drop_chunks(CAST(:t AS regclass), "
                        "older_than => CAST(:cutoff AS timestamptz))"
                    ),
                    {"t": spec.name, "cutoff": cutoff},
                )
                dropped[spec.name] = len(result.all())
                continue
            old = await conn.execute(
                text(
                    "SELECT tablename FROM partition_info "
                    "WHERE parent_table = :t AND range_end <= :cutoff"
                ),
                {"t": spec.name, "cutoff": cutoff},
            )
            names = list(old.scalars())
            for name in names:
                await conn.execute(text(f'DROP TABLE "{name}"'))
            dropped[spec.name] = len(names)
    return dropped
