"""Provenance: a ``data_sources`` table and a ``source_id`` on every row of market data.

Every row of ``market_data_ticks``, ``stock_data_ticks``, ``option_bars``, ``stock_bars``,
``history_requests`` (the loader's progress: per source) and ``arbitrage_opportunities`` says
which source it came from. Two sources may hold a row for the same contract and instant, so
the keys include the source:

- ticks: ``(contract_id, source_id, time)`` / ``(underlying_id, source_id, time)``;
- bars: ``(contract_id, source_id, what_to_show, bar_size, time)`` (stock bars alike);
- loader progress: ``(source_id, instrument_kind, instrument_id, what_to_show, bar_size,
  trading_day)``.

Why this order: every read names one contract (or a list) and one source and asks for a time
range, so the equality columns come first and ``time`` last, and a read is one contiguous
index range per contract; the source sits right after the contract because "which sources
hold this contract in this window" (``alc_data.repositories.source_choice``) is then an index
probe per contract and source. On TimescaleDB the same leading columns are the columnstore's
``segmentby`` (one compressed segment per contract and source, ordered by time), so a
compressed chunk is read the same way. The rollups (quote bars from ticks) group by the
source too: they are recreated (continuous aggregates) or rebuilt in place (rollup tables).

Existing rows get the ``legacy`` source (id 1): no earlier revision recorded where rows came
from. A row written without naming a source (raw SQL, a writer given none) gets
``unspecified`` (id 2), the column default. The time-series tables carry no foreign key to
``data_sources``: it would add a second per-row check to every COPY of the hot path, and the
writers only write ids they registered.

TimescaleDB: compressed chunks are decompressed inside this revision's transaction, altered,
and compressed again (with the new ``segmentby``) before it commits; nothing is half-migrated.
It needs free space for the decompressed chunks while it runs.

The downgrade keeps every row that fits the old keys. Rows of a second source for the same
key cannot: the downgrade refuses (``rows_lost``, read by
``alc_data.db.migrate.refuse_data_loss``) unless asked with ``--drop-data``, and then keeps,
for each old key, the row of the lowest source id.

The SQL is written out here (not built by the library) so that this revision never changes.

Revision ID: 0006
Revises: 0005
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from alc_data.config import Backend
from alc_data.db import partitioning, timescale
from alc_data.db.backend import recorded_backend
from alc_data.db.timeseries import (
    OPTION_BAR_COLUMNS,
    OPTION_BAR_ROLLUP_COLUMNS,
    ROLLUPS,
    STOCK_BAR_COLUMNS,
    render_first_last,
)

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LEGACY_SOURCE_ID = 1
UNSPECIFIED_SOURCE_ID = 2

#: Per table: (the old key, the new key, its constraint name).
KEYS: dict[str, tuple[tuple[str, ...], tuple[str, ...], str]] = {
    "market_data_ticks": (
        ("contract_id", "time"),
        ("contract_id", "source_id", "time"),
        "pk_market_data_ticks",
    ),
    "stock_data_ticks": (
        ("underlying_id", "time"),
        ("underlying_id", "source_id", "time"),
        "pk_stock_data_ticks",
    ),
    "option_bars": (
        ("contract_id", "what_to_show", "bar_size", "time"),
        ("contract_id", "source_id", "what_to_show", "bar_size", "time"),
        "pk_option_bars",
    ),
    "stock_bars": (
        ("underlying_id", "what_to_show", "bar_size", "time"),
        ("underlying_id", "source_id", "what_to_show", "bar_size", "time"),
        "pk_stock_bars",
    ),
}
DATA_TABLES = tuple(KEYS)

_HR_OLD = ("instrument_kind", "instrument_id", "what_to_show", "bar_size", "trading_day")
_HR_OLD_NAME = "uq_history_requests_instrument_kind_instrument_id_what__0ad1"  # as 0001 named it
_HR_NEW_NAME = "uq_history_requests_source_id"

#: segmentby of each hypertable before and after this revision.
SEGMENT_BY = {
    "market_data_ticks": ("contract_id", "contract_id, source_id"),
    "stock_data_ticks": ("underlying_id", "underlying_id, source_id"),
    "option_bars": (
        "contract_id, what_to_show, bar_size",
        "contract_id, source_id, what_to_show, bar_size",
    ),
    "stock_bars": (
        "underlying_id, what_to_show, bar_size",
        "underlying_id, source_id, what_to_show, bar_size",
    ),
}

#: Rollup tables (plain PostgreSQL): key column and value columns, in table order.
_OPTION_ROLLUP_VALUES = (
    "open, high, low, close, bid, ask, spread_avg, volume, open_interest, "
    "implied_volatility, underlying_price, tick_count"
)
_STOCK_ROLLUP_VALUES = "open, high, low, close, bid, ask, volume, tick_count"

_SOURCES_TABLE = """
CREATE TABLE data_sources (
    id smallint GENERATED BY DEFAULT AS IDENTITY,
    name varchar(64) NOT NULL,
    kind varchar(16) NOT NULL,
    details jsonb DEFAULT '{}'::jsonb NOT NULL,
    first_written timestamptz,
    last_written timestamptz,
    created_at timestamptz DEFAULT now() NOT NULL,
    CONSTRAINT pk_data_sources PRIMARY KEY (id),
    CONSTRAINT uq_data_sources_name UNIQUE (name),
    CONSTRAINT ck_data_sources_kind
        CHECK (kind IN ('broker', 'simulator', 'vendor', 'user', 'unknown'))
)"""

_SEED = """
INSERT INTO data_sources (name, kind, details) VALUES
    ('legacy', 'unknown',
     '{"description": "rows stored before alc-data recorded provenance (revision 0006)"}'),
    ('unspecified', 'user',
     '{"description": "rows written without naming a source (raw SQL, a writer given none)"}')"""

_COMPRESSED = """
CREATE TEMP TABLE alc_recompress ON COMMIT DROP AS
SELECT format('%I.%I', chunk_schema, chunk_name)::regclass AS chunk
FROM timescaledb_information.chunks
WHERE is_compressed
  AND hypertable_name IN ('market_data_ticks', 'stock_data_ticks', 'option_bars', 'stock_bars')"""
_DECOMPRESS = "SELECT count(decompress_chunk(chunk)) FROM alc_recompress"
_RECOMPRESS = "SELECT count(compress_chunk(chunk)) FROM alc_recompress"


def _key_sql(columns: tuple[str, ...]) -> str:
    return ", ".join(columns)


def _add_source(table: str) -> list[str]:
    """The column (existing rows: legacy), then the default for new rows."""
    return [
        f"ALTER TABLE {table} ADD COLUMN source_id smallint DEFAULT {LEGACY_SOURCE_ID} NOT NULL",
        f"ALTER TABLE {table} ALTER COLUMN source_id SET DEFAULT {UNSPECIFIED_SOURCE_ID}",
    ]


def _rekey(table: str, key: tuple[str, ...], name: str) -> list[str]:
    return [
        f"ALTER TABLE {table} DROP CONSTRAINT {name}",
        f"ALTER TABLE {table} ADD CONSTRAINT {name} PRIMARY KEY ({_key_sql(key)})",
    ]


def _keep_lowest_source(table: str, key: tuple[str, ...]) -> str:
    """Delete every row whose old key is also held by a row of a lower source id."""
    same = " AND ".join(f"a.{c} = b.{c}" for c in key)
    return f"DELETE FROM {table} a USING {table} b WHERE {same} AND a.source_id > b.source_id"


# --- rollups -------------------------------------------------------------------------------


def _columns_of(key_column: str, built_on: str | None) -> str:
    if built_on is not None:
        return OPTION_BAR_ROLLUP_COLUMNS
    return STOCK_BAR_COLUMNS if key_column == "underlying_id" else OPTION_BAR_COLUMNS


def _bucket(bucket: str, order_by: str, *, timescale: bool) -> str:
    if timescale:
        return f"time_bucket('{bucket}', {order_by})"
    return f"date_bin('{bucket}', {order_by}, '{partitioning.BUCKET_ORIGIN}')"


def _aggregate(name: str, *, timescale: bool) -> str:
    spec = next(r for r in ROLLUPS if r.name == name)
    source = spec.built_on or spec.source
    order_by = "bucket" if spec.built_on else "time"
    bucket = _bucket(spec.bucket, order_by, timescale=timescale)
    columns = render_first_last(
        _columns_of(spec.key_column, spec.built_on), order_by, timescale=timescale
    )
    return f"SELECT {bucket} AS bucket, {spec.key_column}, source_id,{columns}\nFROM {source}"


def _continuous_aggregate(name: str) -> str:
    spec = next(r for r in ROLLUPS if r.name == name)
    order_by = "bucket" if spec.built_on else "time"
    return (
        f"CREATE MATERIALIZED VIEW {name}\n"
        "WITH (timescaledb.continuous, timescaledb.materialized_only = false) AS\n"
        f"{_aggregate(name, timescale=True)}\n"
        f"GROUP BY {_bucket(spec.bucket, order_by, timescale=True)}, {spec.key_column}, "
        "source_id\nWITH NO DATA"
    )


def _refresh_branch(name: str) -> str:
    spec = next(r for r in ROLLUPS if r.name == name)
    order_by = "bucket" if spec.built_on else "time"
    values = _STOCK_ROLLUP_VALUES if spec.key_column == "underlying_id" else _OPTION_ROLLUP_VALUES
    refresh = (
        f"\n        PERFORM refresh_rollup('{spec.built_on}', lo, hi);" if spec.built_on else ""
    )
    return f"""
    IF rollup_name = '{name}' THEN
        lo := date_bin('{spec.bucket}', start_at, '{partitioning.BUCKET_ORIGIN}');
        hi := date_bin('{spec.bucket}', end_at - interval '1 microsecond', \
'{partitioning.BUCKET_ORIGIN}')
              + interval '{spec.bucket}';
        PERFORM create_partition_range('{name}', lo, hi - interval '1 microsecond');{refresh}
        DELETE FROM {name} WHERE bucket >= lo AND bucket < hi;
        INSERT INTO {name} (bucket, {spec.key_column}, source_id, {values})
        {_aggregate(name, timescale=False)}
        WHERE {order_by} >= lo AND {order_by} < hi
        GROUP BY 1, 2, 3;
        GET DIAGNOSTICS written = ROW_COUNT;
        RETURN written;
    END IF;"""


def _refresh_function() -> str:
    branches = "".join(_refresh_branch(spec.name) for spec in ROLLUPS)
    return f"""
CREATE OR REPLACE FUNCTION refresh_rollup(rollup_name text, start_at timestamptz,
                                          end_at timestamptz)
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


#: Partitions a raw ``INSERT`` of today's ticks (or this month's bars) needs right away.
_PARTITIONS_AHEAD = [
    *(
        f"SELECT create_partition_range('{t}', now() - interval '1 day', now() + interval '7 days')"
        for t in ("market_data_ticks", "stock_data_ticks")
    ),
    *(
        f"SELECT create_partition_range('{t}', now() - interval '1 day', now() + interval '7 days')"
        for t in ("option_bars", "stock_bars")
    ),
]


# --- upgrade -------------------------------------------------------------------------------


def _upgrade_common() -> None:
    op.execute(_SOURCES_TABLE)
    op.execute(_SEED)
    for table, (_, new, name) in KEYS.items():
        for statement in [*_add_source(table), *_rekey(table, new, name)]:
            op.execute(statement)
    for statement in _add_source("history_requests"):
        op.execute(statement)
    op.execute(f"ALTER TABLE history_requests DROP CONSTRAINT {_HR_OLD_NAME}")
    op.execute(
        f"ALTER TABLE history_requests ADD CONSTRAINT {_HR_NEW_NAME} "
        f"UNIQUE (source_id, {_key_sql(_HR_OLD)})"
    )
    for statement in _add_source("arbitrage_opportunities"):
        op.execute(statement)
    for table in ("history_requests", "arbitrage_opportunities"):
        op.execute(
            f"ALTER TABLE {table} ADD CONSTRAINT fk_{table}_source_id_data_sources "
            "FOREIGN KEY (source_id) REFERENCES data_sources (id)"
        )


def _upgrade_rollup_tables() -> None:
    for spec in ROLLUPS:
        op.execute(
            f"ALTER TABLE {spec.name} ADD COLUMN source_id smallint "
            f"DEFAULT {LEGACY_SOURCE_ID} NOT NULL"
        )
        op.execute(f"ALTER TABLE {spec.name} ALTER COLUMN source_id DROP DEFAULT")
        op.execute(f"ALTER TABLE {spec.name} DROP CONSTRAINT pk_{spec.name}")
        op.execute(
            f"ALTER TABLE {spec.name} ADD CONSTRAINT pk_{spec.name} "
            f"PRIMARY KEY ({spec.key_column}, source_id, bucket)"
        )
    op.execute(_refresh_function())


def _drop_aggregates() -> None:
    for spec in reversed(ROLLUPS):
        op.execute(f"DROP MATERIALIZED VIEW {spec.name}")


def upgrade() -> None:
    """Add the sources and re-key every time-series table, in one transaction."""
    backend = recorded_backend(op.get_bind())
    if backend is Backend.TIMESCALE:
        op.execute(_COMPRESSED)
        op.execute(_DECOMPRESS)
        _drop_aggregates()
        _upgrade_common()
        for table, (_, after) in SEGMENT_BY.items():
            op.execute(f"ALTER TABLE {table} SET (timescaledb.segmentby = '{after}')")
        for spec in ROLLUPS:  # WITH NO DATA runs inside a transaction
            op.execute(_continuous_aggregate(spec.name))
        for spec in ROLLUPS:
            op.execute(timescale.refresh_policy(spec))
        op.execute(_RECOMPRESS)
        return
    _upgrade_common()
    _upgrade_rollup_tables()
    for statement in _PARTITIONS_AHEAD:
        op.execute(statement)


# --- downgrade -----------------------------------------------------------------------------


def rows_lost(connection: sa.Connection) -> dict[str, int]:
    """Rows the downgrade would delete: per table, rows whose old key another (lower) source
    also holds. Read by :func:`alc_data.db.migrate.refuse_data_loss`."""
    lost: dict[str, int] = {}
    tables = {**{t: k[0] for t, k in KEYS.items()}, "history_requests": _HR_OLD}
    for table, key in tables.items():
        cols = _key_sql(key)
        count = connection.execute(
            sa.text(
                f"SELECT coalesce(sum(n - 1), 0) FROM (SELECT count(*) AS n FROM {table} "
                f"GROUP BY {cols} HAVING count(*) > 1) d"
            )
        ).scalar()
        if count:
            lost[table] = int(count)
    return lost


def _downgrade_common() -> None:
    for table in ("history_requests", "arbitrage_opportunities"):
        op.execute(f"ALTER TABLE {table} DROP CONSTRAINT fk_{table}_source_id_data_sources")
    op.execute("ALTER TABLE arbitrage_opportunities DROP COLUMN source_id")
    op.execute(_keep_lowest_source("history_requests", _HR_OLD))
    op.execute(f"ALTER TABLE history_requests DROP CONSTRAINT {_HR_NEW_NAME}")
    op.execute(
        f"ALTER TABLE history_requests ADD CONSTRAINT {_HR_OLD_NAME} UNIQUE ({_key_sql(_HR_OLD)})"
    )
    op.execute("ALTER TABLE history_requests DROP COLUMN source_id")
    for table, (old, _, name) in KEYS.items():
        op.execute(_keep_lowest_source(table, old))
        for statement in _rekey(table, old, name):
            op.execute(statement)


def downgrade() -> None:
    """Back to revision 0004's keys; refused by the guard when rows would collide."""
    backend = recorded_backend(op.get_bind())
    if backend is Backend.TIMESCALE:
        op.execute(_COMPRESSED)
        op.execute(_DECOMPRESS)
        _drop_aggregates()
        _downgrade_common()
        for table, (before, _) in SEGMENT_BY.items():
            op.execute(f"ALTER TABLE {table} SET (timescaledb.segmentby = '{before}')")
        for table in DATA_TABLES:
            op.execute(f"ALTER TABLE {table} DROP COLUMN source_id")
        for spec in ROLLUPS:  # revision 0003's definitions
            op.execute(timescale.continuous_aggregate(spec))
        for spec in ROLLUPS:
            op.execute(timescale.refresh_policy(spec))
        op.execute(_RECOMPRESS)
    else:
        _downgrade_common()
        for table in DATA_TABLES:
            op.execute(f"ALTER TABLE {table} DROP COLUMN source_id")
        for spec in ROLLUPS:
            key = f"{spec.key_column}, bucket"
            op.execute(_keep_lowest_source(spec.name, (spec.key_column, "bucket")))
            op.execute(f"ALTER TABLE {spec.name} DROP CONSTRAINT pk_{spec.name}")
            op.execute(f"ALTER TABLE {spec.name} ADD CONSTRAINT pk_{spec.name} PRIMARY KEY ({key})")
            op.execute(f"ALTER TABLE {spec.name} DROP COLUMN source_id")
        op.execute(
            partitioning._refresh_function().replace(
                "CREATE FUNCTION", "CREATE OR REPLACE FUNCTION", 1
            )
        )
    op.execute("DROP TABLE data_sources")
