"""DDL for the plain-PostgreSQL backend: native range partitions, rollup tables, monitoring.

Ticks are partitioned by UTC day, bars and rollups by UTC month, with no DEFAULT partition. A
partition is created on demand for any period written (``alc_ensure_partition``, called by the
write paths before they write) and ahead of time by maintenance (``create_partition_range``).
The rollups ``market_data_1min``, ``market_data_5min`` and ``stock_data_1min`` are tables that
``refresh_rollup(name, start, end)`` recomputes for a time window.

Only migrations call these builders; each returns plain SQL statements so that tests can parse
and inspect them.
"""

from __future__ import annotations

from alc_data.db.timeseries import (
    DATA_TABLES,
    OPTION_BAR_COLUMNS,
    OPTION_BAR_ROLLUP_COLUMNS,
    PARTITIONED_TABLES,
    ROLLUPS,
    STOCK_BAR_COLUMNS,
    Rollup,
    render_first_last,
)

#: time_bucket's default origin on TimescaleDB, so both backends bucket identically.
BUCKET_ORIGIN = "2000-01-03 00:00:00+00"

_UPPER_BOUND = "(regexp_match(pg_get_expr(c.relpartbound, c.oid), 'TO \\(''([^'']+)''\\)'))[1]"
_LOWER_BOUND = "(regexp_match(pg_get_expr(c.relpartbound, c.oid), 'FROM \\(''([^'']+)''\\)'))[1]"
_DATA_NAMES = ", ".join(f"'{t.name}'" for t in DATA_TABLES)


def _period_function() -> str:
    cases = "\n".join(f"        WHEN '{t.name}' THEN '{t.period}'" for t in PARTITIONED_TABLES)
    return f"""
CREATE FUNCTION alc_partition_period(tbl text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE tbl
{cases}
    END
$$"""


_ENSURE_PARTITION = """
CREATE FUNCTION alc_ensure_partition(tbl text, at timestamptz) RETURNS boolean
LANGUAGE plpgsql AS $$
DECLARE
    period text := alc_partition_period(tbl);
    lo timestamp;
    part text;
BEGIN
    IF period IS NULL THEN
        RAISE EXCEPTION 'table % is not partitioned by alc-data', tbl USING ERRCODE = '42P01';
    END IF;
    lo := date_trunc(period, at AT TIME ZONE 'UTC');
    part := tbl || '_p' || to_char(lo, CASE period WHEN 'day' THEN 'YYYYMMDD' ELSE 'YYYYMM' END);
    IF to_regclass(quote_ident(part)) IS NOT NULL THEN
        RETURN false;
    END IF;
    -- Two writers may want the same new partition: serialise them on its name.
    PERFORM pg_advisory_xact_lock(hashtext(part));
    IF to_regclass(quote_ident(part)) IS NOT NULL THEN
        RETURN false;
    END IF;
    EXECUTE format(
        'CREATE TABLE %I PARTITION OF %I FOR VALUES FROM (%L) TO (%L)',
        part, tbl,
        lo AT TIME ZONE 'UTC',
        (lo + ('1 ' || period)::interval) AT TIME ZONE 'UTC'
    );
    RETURN true;
END
$$"""

_CREATE_PARTITION_RANGE = """
CREATE FUNCTION create_partition_range(tbl text, start_at timestamptz, end_at timestamptz)
RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    period text := alc_partition_period(tbl);
    at timestamp;
    created integer := 0;
BEGIN
    IF period IS NULL THEN
        RAISE EXCEPTION 'table % is not partitioned by alc-data', tbl USING ERRCODE = '42P01';
    END IF;
    IF end_at < start_at THEN
        RAISE EXCEPTION 'end % is before start %', end_at, start_at USING ERRCODE = '22023';
    END IF;
    at := date_trunc(period, start_at AT TIME ZONE 'UTC');
    WHILE at <= end_at AT TIME ZONE 'UTC' LOOP
        IF alc_ensure_partition(tbl, at AT TIME ZONE 'UTC') THEN
            created := created + 1;
        END IF;
        at := at + ('1 ' || period)::interval;
    END LOOP;
    RETURN created;
END
$$"""

_DROP_OLD_PARTITIONS = f"""
CREATE FUNCTION drop_old_partitions(tbl text, keep_months integer) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    cutoff timestamptz;
    r record;
    dropped integer := 0;
BEGIN
    IF alc_partition_period(tbl) IS NULL THEN
        RAISE EXCEPTION 'table % is not partitioned by alc-data', tbl USING ERRCODE = '42P01';
    END IF;
    IF keep_months IS NULL OR keep_months < 0 THEN
        RAISE EXCEPTION 'keep_months must be >= 0, got %', keep_months USING ERRCODE = '22023';
    END IF;
    -- Keep the current month and the keep_months months before it.
    cutoff := (date_trunc('month', now() AT TIME ZONE 'UTC')
               - make_interval(months => keep_months)) AT TIME ZONE 'UTC';
    FOR r IN
        SELECT c.oid::regclass AS part, {_UPPER_BOUND}::timestamptz AS upper_bound
        FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
        WHERE i.inhparent = tbl::regclass
    LOOP
        IF r.upper_bound <= cutoff THEN
            EXECUTE format('DROP TABLE %s', r.part);
            dropped := dropped + 1;
        END IF;
    END LOOP;
    RETURN dropped;
END
$$"""

_PARTITION_INFO = f"""
CREATE VIEW partition_info AS
SELECT p.relname::text AS parent_table,
       c.relname::text AS tablename,
       {_LOWER_BOUND}::timestamptz AS range_start,
       {_UPPER_BOUND}::timestamptz AS range_end,
       pg_total_relation_size(c.oid) AS total_bytes,
       pg_size_pretty(pg_total_relation_size(c.oid)) AS total_size,
       false AS is_compressed
FROM pg_inherits i
JOIN pg_class c ON c.oid = i.inhrelid
JOIN pg_class p ON p.oid = i.inhparent
WHERE p.relname IN ({_DATA_NAMES}) AND pg_table_is_visible(p.oid)"""

_HYPERTABLE_STATS = f"""
CREATE VIEW hypertable_stats AS
SELECT p.relname::text AS hypertable_name,
       ('1 ' || alc_partition_period(p.relname))::interval AS chunk_interval,
       count(i.inhrelid) AS num_chunks,
       0::bigint AS compressed_chunks,
       false AS compression_enabled,
       coalesce(sum(pg_total_relation_size(i.inhrelid)), 0)::bigint AS total_bytes,
       pg_size_pretty(coalesce(sum(pg_total_relation_size(i.inhrelid)), 0)) AS total_size
FROM pg_class p
LEFT JOIN pg_inherits i ON i.inhparent = p.oid
WHERE p.relname IN ({_DATA_NAMES}) AND p.relkind = 'p' AND pg_table_is_visible(p.oid)
GROUP BY p.relname"""

_OPTION_ROLLUP_TYPES = """
    open double precision, high double precision, low double precision,
    close double precision, bid double precision, ask double precision,
    spread_avg double precision, volume bigint, open_interest bigint,
    implied_volatility double precision, underlying_price double precision,
    tick_count bigint NOT NULL"""
_STOCK_ROLLUP_TYPES = """
    open double precision, high double precision, low double precision,
    close double precision, bid double precision, ask double precision,
    volume double precision, tick_count bigint NOT NULL"""


def _rollup_table(spec: Rollup) -> str:
    types = _STOCK_ROLLUP_TYPES if spec.key_column == "underlying_id" else _OPTION_ROLLUP_TYPES
    return f"""
CREATE TABLE {spec.name} (
    bucket timestamptz NOT NULL,
    {spec.key_column} bigint NOT NULL,{types},
    CONSTRAINT pk_{spec.name} PRIMARY KEY ({spec.key_column}, bucket)
) PARTITION BY RANGE (bucket)"""


def bucket_expression(spec: Rollup, *, timescale: bool) -> str:
    """The bucketing expression of a rollup over its source's time column."""
    order_by = "bucket" if spec.built_on else "time"
    if timescale:
        return f"time_bucket('{spec.bucket}', {order_by})"
    return f"date_bin('{spec.bucket}', {order_by}, '{BUCKET_ORIGIN}')"


def rollup_select(spec: Rollup, *, timescale: bool) -> str:
    """The aggregate query of a rollup (without a window), shared with the TimescaleDB builder."""
    if spec.built_on is not None:
        columns, source, order_by = OPTION_BAR_ROLLUP_COLUMNS, spec.built_on, "bucket"
    else:
        is_stock = spec.key_column == "underlying_id"
        columns = STOCK_BAR_COLUMNS if is_stock else OPTION_BAR_COLUMNS
        source, order_by = spec.source, "time"
    bucket = bucket_expression(spec, timescale=timescale)
    return (
        f"SELECT {bucket} AS bucket, {spec.key_column},"
        f"{render_first_last(columns, order_by, timescale=timescale)}\n"
        f"FROM {source}"
    )


def _refresh_branch(spec: Rollup) -> str:
    order_by = "bucket" if spec.built_on else "time"
    # A rollup built on another one refreshes its source over the same window first.
    refresh = (
        f"\n        PERFORM refresh_rollup('{spec.built_on}', lo, hi);" if spec.built_on else ""
    )
    return f"""
    IF rollup_name = '{spec.name}' THEN
        lo := date_bin('{spec.bucket}', start_at, '{BUCKET_ORIGIN}');
        hi := date_bin('{spec.bucket}', end_at - interval '1 microsecond', '{BUCKET_ORIGIN}')
              + interval '{spec.bucket}';
        PERFORM create_partition_range('{spec.name}', lo, hi - interval '1 microsecond');{refresh}
        DELETE FROM {spec.name} WHERE bucket >= lo AND bucket < hi;
        INSERT INTO {spec.name}
        {rollup_select(spec, timescale=False)}
        WHERE {order_by} >= lo AND {order_by} < hi
        GROUP BY 1, 2;
        GET DIAGNOSTICS written = ROW_COUNT;
        RETURN written;
    END IF;"""


def _refresh_function() -> str:
    branches = "".join(_refresh_branch(spec) for spec in ROLLUPS)
    return f"""
CREATE FUNCTION refresh_rollup(rollup_name text, start_at timestamptz, end_at timestamptz)
RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    lo timestamptz;
    hi timestamptz;
    written bigint;
BEGIN
    IF end_at <= start_at THEN
        RETURN 0;
    END IF;{branches}
    RAISE EXCEPTION 'unknown rollup %', rollup_name USING ERRCODE = '42P01';
END
$$"""


def upgrade_statements() -> list[str]:
    """Everything the plain-PostgreSQL backend adds after the partitioned tables exist."""
    return [
        _period_function(),
        _ENSURE_PARTITION,
        _CREATE_PARTITION_RANGE,
        _DROP_OLD_PARTITIONS,
        *(_rollup_table(spec) for spec in ROLLUPS),
        _refresh_function(),
        _PARTITION_INFO,
        _HYPERTABLE_STATS,
    ]


def downgrade_statements() -> list[str]:
    """The exact inverse of :func:`upgrade_statements`."""
    return [
        "DROP VIEW IF EXISTS hypertable_stats",
        "DROP VIEW IF EXISTS partition_info",
        "DROP FUNCTION IF EXISTS refresh_rollup(text, timestamptz, timestamptz)",
        *(f"DROP TABLE IF EXISTS {spec.name}" for spec in reversed(ROLLUPS)),
        "DROP FUNCTION IF EXISTS drop_old_partitions(text, integer)",
        "DROP FUNCTION IF EXISTS create_partition_range(text, timestamptz, timestamptz)",
        "DROP FUNCTION IF EXISTS alc_ensure_partition(text, timestamptz)",
        "DROP FUNCTION IF EXISTS alc_partition_period(text)",
    ]
