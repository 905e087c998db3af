"""What ``alc-data db status`` reports: backend, revision, tables, partitions, rollups."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from alc_data.db.sources import describe_sources, render_sources
from alc_data.db.timeseries import ROLLUPS

PLAIN_TABLES = (
    "underlying_securities",
    "option_chains",
    "arbitrage_opportunities",
    "corporate_actions",
    "market_events",
    "data_quality_metrics",
    "backtest_runs",
    "history_requests",
)


async def _scalar(conn: AsyncConnection, sql: str, **params: Any) -> Any:
    return (await conn.execute(text(sql), params)).scalar()


async def database_status(conn: AsyncConnection) -> dict[str, Any]:
    """A JSON-ready description of the database's schema state and contents."""
    revision = None
    if await _scalar(conn, "SELECT to_regclass('alembic_version')") is not None:
        revision = await _scalar(conn, "SELECT version_num FROM alembic_version")
    status: dict[str, Any] = {
        "server_version": await _scalar(conn, "SHOW server_version"),
        "database": await _scalar(conn, "SELECT current_database()"),
        "revision": revision,
        "backend": None,
    }
    if await _scalar(conn, "SELECT to_regclass('alc_meta')") is None:
        status["note"] = "schema not created: run `alc-data db upgrade`"
        return status
    rows = await conn.execute(text("SELECT key, value FROM alc_meta"))
    meta: dict[str, str] = {row.key: row.value for row in rows}
    status["backend"] = meta.get("backend")
    status["meta"] = meta
    if status["backend"] is None:
        return status
    status["compression"] = (
        "columnstore" if status["backend"] == "timescale" else "none (plain PostgreSQL)"
    )
    status["tables"] = [
        {"table": name, "rows": await _scalar(conn, f"SELECT count(*) FROM {name}")}
        for name in PLAIN_TABLES
    ]
    status["sources"] = await describe_sources(conn)
    stats = await conn.execute(
        text(
            "SELECT hypertable_name, chunk_interval::text AS chunk_interval, num_chunks, "
            "compressed_chunks, compression_enabled, total_bytes, total_size "
            "FROM hypertable_stats ORDER BY hypertable_name"
        )
    )
    status["time_series"] = [
        {
            **_jsonable(dict(row._mapping)),
            "rows_estimate": await _row_estimate(conn, row.hypertable_name, status["backend"]),
            **await _range(conn, row.hypertable_name),
        }
        for row in stats
    ]
    parts = await conn.execute(text("SELECT * FROM partition_info ORDER BY tablename"))
    status["partitions"] = [_jsonable(dict(row._mapping)) for row in parts]
    if status["backend"] == "timescale":
        status["jobs"] = await _rows(conn, _JOBS)
        status["aggregates"] = await _rows(conn, _AGGREGATES)
    status["rollups"] = [
        {
            "rollup": spec.name,
            "source": spec.built_on or spec.source,
            "bucket": spec.bucket,
            "rows": await _scalar(conn, f"SELECT count(*) FROM {spec.name}"),
            "newest_bucket": _iso(await _scalar(conn, f"SELECT max(bucket) FROM {spec.name}")),
        }
        for spec in ROLLUPS
    ]
    return status


_JOBS = """
SELECT j.job_id, j.proc_name::text AS proc_name, j.hypertable_name::text AS hypertable_name,
       j.schedule_interval::text AS schedule_interval, j.config, j.scheduled, j.next_start,
       s.last_run_started_at, s.last_successful_finish, s.last_run_status, s.total_runs,
       s.total_failures
FROM timescaledb_information.jobs j
LEFT JOIN timescaledb_information.job_stats s ON s.job_id = j.job_id
ORDER BY j.job_id"""

_AGGREGATES = """
SELECT a.view_name::text AS view_name, a.materialized_only,
       a.materialization_hypertable_name::text AS materialization_hypertable,
       j.config ->> 'start_offset' AS refresh_start_offset,
       j.config ->> 'end_offset' AS refresh_end_offset,
       j.schedule_interval::text AS refresh_every,
       s.last_successful_finish AS last_refresh
FROM timescaledb_information.continuous_aggregates a
LEFT JOIN timescaledb_information.jobs j
  ON j.hypertable_name = a.view_name
 AND j.proc_name = 'policy_refresh_continuous_aggregate'
LEFT JOIN timescaledb_information.job_stats s ON s.job_id = j.job_id
ORDER BY a.view_name"""


# Row counts of the time-series tables: the planner's estimate for analysed partitions (no
# scan of millions of rows on every status call), an exact count for the ones not analysed
# yet (typically the newest and smallest).
_PG_ESTIMATE = """
SELECT coalesce(sum(CASE WHEN c.reltuples >= 0 THEN c.reltuples::bigint END), 0) AS estimated,
       coalesce(array_agg(c.oid::regclass::text) FILTER (WHERE c.reltuples < 0), '{}') AS unanalysed
FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
WHERE i.inhparent = CAST(:t AS regclass)"""


async def _row_estimate(conn: AsyncConnection, table: str, backend: str) -> int:
    if backend == "timescale":
        estimate = await _scalar(
            conn, "SELECT approximate_row_count(CAST(:t AS regclass))", t=table
        )
        if estimate:
            return int(estimate)
        return int(await _scalar(conn, f"SELECT count(*) FROM {table}"))
    row = (await conn.execute(text(_PG_ESTIMATE), {"t": table})).one()
    total = int(row.estimated)
    for partition in row.unanalysed:
        total += int(await _scalar(conn, f"SELECT count(*) FROM {partition}"))
    return total


async def _range(conn: AsyncConnection, table: str) -> dict[str, Any]:
    row = (
        await conn.execute(
            text(
                "SELECT min(range_start) AS first_partition_start, "
                "max(range_end) AS last_partition_end FROM partition_info WHERE parent_table = :t"
            ),
            {"t": table},
        )
    ).one()
    return _jsonable(dict(row._mapping))


async def _rows(conn: AsyncConnection, sql: str) -> list[dict[str, Any]]:
    return [_jsonable(dict(row._mapping)) for row in await conn.execute(text(sql))]


def _iso(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def _jsonable(row: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for key, value in row.items():
        if isinstance(value, datetime):
            out[key] = value.isoformat()
        elif hasattr(value, "total_seconds"):
            out[key] = str(value)
        else:
            out[key] = value
    return out


def render_status(status: dict[str, Any]) -> str:
    """The status as text for a terminal."""
    lines = [
        f"database   {status.get('database')} (PostgreSQL {status.get('server_version')})",
        f"revision   {status.get('revision') or '(none)'}",
        f"backend    {status.get('backend') or '(not migrated)'}",
    ]
    if "note" in status:
        lines.append(status["note"])
    if not status.get("backend"):
        return "\n".join(lines)
    lines.append(f"compression {status['compression']}")
    compressed = sum(t["compressed_chunks"] for t in status["time_series"])
    lines.append(f"compressed chunks {compressed}")
    lines.append("\ntime-series tables")
    lines.append(
        f"  {'table':<20} {'period':>8} {'parts':>6} {'rows (est.)':>12} {'size':>10}  "
        "partitions up to"
    )
    for t in status["time_series"]:
        lines.append(
            f"  {t['hypertable_name']:<20} {t['chunk_interval']:>8} {t['num_chunks']:>6} "
            f"{t['rows_estimate']:>12} {t['total_size']:>10}  {t['last_partition_end'] or '-'}"
        )
    lines.append("\nrollups")
    for r in status["rollups"]:
        lines.append(
            f"  {r['rollup']:<20} {r['bucket']:>10} from {r['source']:<18} rows {r['rows']:>10}"
            f"  newest {r['newest_bucket'] or '-'}"
        )
    if "aggregates" in status:
        lines.append("\ncontinuous aggregates (refresh window: start offset .. end offset)")
        for a in status["aggregates"]:
            lines.append(
                f"  {a['view_name']:<20} real-time {not a['materialized_only']!s:<5} "
                f"window {a['refresh_start_offset']} .. {a['refresh_end_offset']} "
                f"every {a['refresh_every']}  last refresh {a['last_refresh'] or 'never'}"
            )
        lines.append("\njobs")
        for j in status["jobs"]:
            lines.append(
                f"  {j['job_id']:>5} {j['proc_name']:<36} {j['hypertable_name'] or '-':<28} "
                f"every {j['schedule_interval']:<10} last {j['last_run_status'] or 'never run'}"
            )
    if status.get("sources"):
        lines.append("")
        lines.extend(render_sources(status["sources"]))
    lines.append("\ntables")
    for t in status["tables"]:
        lines.append(f"  {t['table']:<26} {t['rows']:>10} rows")
    parts = status["partitions"]
    lines.append(f"\npartitions ({len(parts)})")
    for p in parts[-20:]:
        lines.append(f"  {p['tablename']:<34} {p['range_start']}  {p['total_size']:>10}")
    if len(parts) > 20:
        lines.append(f"  ... and {len(parts) - 20} older (see --json)")
    return "\n".join(lines)
