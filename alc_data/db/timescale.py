"""DDL for the TimescaleDB backend: hypertables, columnstore, continuous aggregates, policies.

The builders return plain SQL so that an offline test can parse every statement with pglast,
and so that the migration decides where each runs: continuous aggregates are created outside a
transaction block (Alembic's ``autocommit_block``), everything else inside the migration's
transaction. The monitoring views and maintenance functions have the same names, arguments and
columns as on plain PostgreSQL (``alc_data.db.partitioning``).

Supported: TimescaleDB 2.18 or newer (the columnstore API; ``add_columnstore_policy`` is a
procedure, hence ``CALL``).
"""

from __future__ import annotations

import re

from alc_data.db.partitioning import bucket_expression, rollup_select
from alc_data.db.timeseries import DATA_TABLES, ROLLUPS, TICK_TABLES, PartitionedTable, Rollup
from alc_data.errors import BackendUnavailableError

MIN_VERSION = (2, 18)

#: Chunks are converted to the columnstore once they are this old.
COLUMNSTORE_AFTER = "7 days"

#: Refresh policy per rollup: (start_offset, end_offset, schedule_interval).
REFRESH_POLICIES = {
    "market_data_1min": ("2 hours", "1 minute", "1 minute"),
    "market_data_5min": ("6 hours", "5 minutes", "5 minutes"),
    "stock_data_1min": ("2 hours", "1 minute", "1 minute"),
}

_DATA_NAMES = ", ".join(f"'{t.name}'" for t in DATA_TABLES)


def parse_version(text: str) -> tuple[int, int]:
    """``"2.23.0-dev"`` -> ``(2, 23)``."""
    match = re.match(r"(\d+)\.(\d+)", text)
    if match is None:
        raise BackendUnavailableError(f"cannot read the TimescaleDB version {text!r}")
    return int(match.group(1)), int(match.group(2))


def check_version(text: str) -> tuple[int, int]:
    """Raise :class:`BackendUnavailableError` unless ``text`` is a supported version."""
    version = parse_version(text)
    if version < MIN_VERSION:
        raise BackendUnavailableError(
            f"TimescaleDB {text} is too old: alc-data needs {MIN_VERSION[0]}.{MIN_VERSION[1]} "
            "or newer (ALTER EXTENSION timescaledb UPDATE), or set ALC_BACKEND=postgres"
        )
    return version


def hypertable(spec: PartitionedTable) -> list[str]:
    """Turn a freshly created table into a hypertable with columnstore settings."""
    segment_by = ", ".join(spec.series_columns)
    return [
        f"SELECT create_hypertable('{spec.name}', by_range('{spec.time_column}', "
        f"INTERVAL '{spec.interval}'), create_default_indexes => false)",
        f"ALTER TABLE {spec.name} SET (timescaledb.enable_columnstore = true, "
        f"timescaledb.segmentby = '{segment_by}', "
        f"timescaledb.orderby = '{spec.time_column} DESC')",
        f"CALL add_columnstore_policy('{spec.name}', after => INTERVAL '{COLUMNSTORE_AFTER}')",
    ]


def continuous_aggregate(spec: Rollup) -> str:
    """``CREATE MATERIALIZED VIEW ... WITH (timescaledb.continuous) ... WITH NO DATA``."""
    return (
        f"CREATE MATERIALIZED VIEW {spec.name}\n"
        "WITH (timescaledb.continuous, timescaledb.materialized_only = false) AS\n"
        f"{rollup_select(spec, timescale=True)}\n"
        # Group by the expression: a hierarchical aggregate's source also has a "bucket".
        f"GROUP BY {bucket_expression(spec, timescale=True)}, {spec.key_column}\n"
        "WITH NO DATA"
    )


def refresh_policy(spec: Rollup) -> str:
    """The refresh policy of one continuous aggregate."""
    start, end, every = REFRESH_POLICIES[spec.name]
    return (
        f"SELECT add_continuous_aggregate_policy('{spec.name}', "
        f"start_offset => INTERVAL '{start}', end_offset => INTERVAL '{end}', "
        f"schedule_interval => INTERVAL '{every}')"
    )


def retention_policies(retention_days: int | None) -> list[str]:
    """Drop tick chunks older than ``retention_days`` (nothing when unset)."""
    if retention_days is None:
        return []
    return [
        f"SELECT add_retention_policy('{spec.name}', "
        f"drop_after => INTERVAL '{retention_days} days')"
        for spec in TICK_TABLES
    ]


_PARTITION_INFO = f"""
CREATE VIEW partition_info AS
SELECT c.hypertable_name::text AS parent_table,
       c.chunk_name::text AS tablename,
       c.range_start,
       c.range_end,
       s.total_bytes,
       pg_size_pretty(s.total_bytes) AS total_size,
       c.is_compressed
FROM timescaledb_information.chunks c
LEFT JOIN LATERAL (
    SELECT d.total_bytes
    FROM chunks_detailed_size(format('%I.%I', c.hypertable_schema, c.hypertable_name)::regclass) d
    WHERE d.chunk_schema = c.chunk_schema AND d.chunk_name = c.chunk_name
) s ON true
WHERE c.hypertable_name IN ({_DATA_NAMES})"""

_HYPERTABLE_STATS = f"""
CREATE VIEW hypertable_stats AS
SELECT h.hypertable_name::text AS hypertable_name,
       d.time_interval AS chunk_interval,
       h.num_chunks::bigint AS num_chunks,
       (SELECT count(*) FROM timescaledb_information.chunks c
        WHERE c.hypertable_schema = h.hypertable_schema
          AND c.hypertable_name = h.hypertable_name AND c.is_compressed) AS compressed_chunks,
       h.compression_enabled,
       hypertable_size(format('%I.%I', h.hypertable_schema, h.hypertable_name)::regclass)
           AS total_bytes,
       pg_size_pretty(
           hypertable_size(format('%I.%I', h.hypertable_schema, h.hypertable_name)::regclass)
       ) AS total_size
FROM timescaledb_information.hypertables h
JOIN timescaledb_information.dimensions d
  ON d.hypertable_schema = h.hypertable_schema AND d.hypertable_name = h.hypertable_name
 AND d.dimension_number = 1
WHERE h.hypertable_name IN ({_DATA_NAMES})"""

_CHECK_TABLE = f"""
    IF tbl NOT IN ({_DATA_NAMES}) THEN
        RAISE EXCEPTION 'table % is not partitioned by alc-data', tbl USING ERRCODE = '42P01';
    END IF;"""

_CREATE_PARTITION_RANGE = f"""
CREATE FUNCTION create_partition_range(tbl text, start_at timestamptz, end_at timestamptz)
RETURNS integer
LANGUAGE plpgsql AS $$
BEGIN{_CHECK_TABLE}
    IF end_at < start_at THEN
        RAISE EXCEPTION 'end % is before start %', end_at, start_at USING ERRCODE = '22023';
    END IF;
    -- TimescaleDB creates chunks as rows arrive: nothing to do.
    RETURN 0;
END
$$"""

_ENSURE_PARTITION = f"""
CREATE FUNCTION alc_ensure_partition(tbl text, at timestamptz) RETURNS boolean
LANGUAGE plpgsql AS $$
BEGIN{_CHECK_TABLE}
    RETURN false;
END
$$"""

_DROP_OLD_PARTITIONS = f"""
CREATE FUNCTION drop_old_partitions(tbl text, keep_months integer) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    dropped integer;
BEGIN{_CHECK_TABLE}
    IF keep_months IS NULL OR keep_months < 0 THEN
        RAISE EXCEPTION 'keep_months must be >= 0, got %', keep_months USING ERRCODE = '22023';
    END IF;
    SELECT count(*) INTO dropped FROM drop_chunks(
        tbl::regclass,
        older_than => (date_trunc('month', now() AT TIME ZONE 'UTC')
                       - make_interval(months => keep_months)) AT TIME ZONE 'UTC');
    RETURN dropped;
END
$$"""


def table_statements() -> list[str]:
    """Hypertables and columnstore for every time-series table (after CREATE TABLE)."""
    return [stmt for spec in DATA_TABLES for stmt in hypertable(spec)]


def aggregate_statements() -> list[str]:
    """The continuous aggregates, in dependency order (run outside a transaction block)."""
    return [continuous_aggregate(spec) for spec in ROLLUPS]


def policy_statements(retention_days: int | None) -> list[str]:
    """Refresh policies, retention policies, monitoring views and maintenance functions."""
    return [
        *(refresh_policy(spec) for spec in ROLLUPS),
        *retention_policies(retention_days),
        _PARTITION_INFO,
        _HYPERTABLE_STATS,
        _CREATE_PARTITION_RANGE,
        _ENSURE_PARTITION,
        _DROP_OLD_PARTITIONS,
    ]


def all_statements(retention_days: int | None = 30) -> list[str]:
    """Every TimescaleDB statement the migration can emit (for the offline pglast check)."""
    return [*table_statements(), *aggregate_statements(), *policy_statements(retention_days)]


def downgrade_statements() -> list[str]:
    """Everything :func:`policy_statements` and :func:`aggregate_statements` made, in reverse.

    Dropping a continuous aggregate drops its refresh policy; dropping a hypertable (done by
    the migration) drops its chunks, columnstore settings and policies.
    """
    return [
        "DROP FUNCTION IF EXISTS drop_old_partitions(text, integer)",
        "DROP FUNCTION IF EXISTS alc_ensure_partition(text, timestamptz)",
        "DROP FUNCTION IF EXISTS create_partition_range(text, timestamptz, timestamptz)",
        "DROP VIEW IF EXISTS hypertable_stats",
        "DROP VIEW IF EXISTS partition_info",
        *(f"DROP MATERIALIZED VIEW IF EXISTS {spec.name}" for spec in reversed(ROLLUPS)),
    ]
