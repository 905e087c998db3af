"""Time-series tables (ticks, bars) on the backend chosen for this database.

On plain PostgreSQL the tick tables are range-partitioned by UTC day and the bar tables by UTC
month, with rollup tables, monitoring views and maintenance functions from
``alc_data.db.partitioning``. The backend is chosen once from ``ALC_BACKEND`` (``auto`` uses
TimescaleDB when the extension can be created) and recorded in ``alc_meta``.

Revision ID: 0002
Revises: 0001
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import context, op

from alc_data.config import Backend, load_settings
from alc_data.db import partitioning
from alc_data.db.backend import recorded_backend, resolve_backend, write_meta

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("market_data_ticks", "stock_data_ticks", "option_bars", "stock_bars")


def _requested_backend() -> Backend:
    requested = context.config.attributes.get("backend")
    if requested is not None:
        return Backend(requested)
    return load_settings().database.backend


def _create_tables(**kw: Any) -> None:
    # market_data_ticks
    op.create_table(
        "market_data_ticks",
        sa.Column("contract_id", sa.BigInteger(), nullable=False),
        sa.Column("time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("bid_price", sa.Double(), nullable=True),
        sa.Column("ask_price", sa.Double(), nullable=True),
        sa.Column("last_price", sa.Double(), nullable=True),
        sa.Column("bid_size", sa.BigInteger(), nullable=True),
        sa.Column("ask_size", sa.BigInteger(), nullable=True),
        sa.Column("last_size", sa.BigInteger(), nullable=True),
        sa.Column("volume", sa.BigInteger(), nullable=True),
        sa.Column("open_interest", sa.BigInteger(), nullable=True),
        sa.Column("implied_volatility", sa.Double(), nullable=True),
        sa.Column("delta", sa.Double(), nullable=True),
        sa.Column("gamma", sa.Double(), nullable=True),
        sa.Column("theta", sa.Double(), nullable=True),
        sa.Column("vega", sa.Double(), nullable=True),
        sa.Column("rho", sa.Double(), nullable=True),
        sa.Column("underlying_price", sa.Double(), nullable=True),
        sa.Column("tick_type", sa.String(length=16), server_default="REALTIME", nullable=False),
        sa.Column(
            "mid_price",
            sa.Double(),
            sa.Computed("(bid_price + ask_price) / 2", persisted=True),
            nullable=True,
        ),
        sa.Column(
            "bid_ask_spread",
            sa.Double(),
            sa.Computed("ask_price - bid_price", persisted=True),
            nullable=True,
        ),
        sa.CheckConstraint(
            "tick_type IN ('REALTIME', 'DELAYED', 'FROZEN', 'SNAPSHOT')",
            name=op.f("ck_market_data_ticks_tick_type"),
        ),
        sa.ForeignKeyConstraint(
            ["contract_id"],
            ["option_chains.id"],
            name=op.f("fk_market_data_ticks_contract_id_option_chains"),
        ),
        sa.PrimaryKeyConstraint("contract_id", "time", name=op.f("pk_market_data_ticks")),
        **kw,
    )
    # stock_data_ticks
    op.create_table(
        "stock_data_ticks",
        sa.Column("underlying_id", sa.BigInteger(), nullable=False),
        sa.Column("time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("price", sa.Double(), nullable=True),
        sa.Column("bid_price", sa.Double(), nullable=True),
        sa.Column("ask_price", sa.Double(), nullable=True),
        sa.Column("bid_size", sa.Double(), nullable=True),
        sa.Column("ask_size", sa.Double(), nullable=True),
        sa.Column("volume", sa.Double(), nullable=True),
        sa.Column("vwap", sa.Double(), nullable=True),
        sa.Column("tick_type", sa.String(length=16), server_default="REALTIME", nullable=False),
        sa.CheckConstraint(
            "tick_type IN ('REALTIME', 'DELAYED', 'FROZEN', 'SNAPSHOT')",
            name=op.f("ck_stock_data_ticks_tick_type"),
        ),
        sa.ForeignKeyConstraint(
            ["underlying_id"],
            ["underlying_securities.id"],
            name=op.f("fk_stock_data_ticks_underlying_id_underlying_securities"),
        ),
        sa.PrimaryKeyConstraint("underlying_id", "time", name=op.f("pk_stock_data_ticks")),
        **kw,
    )
    # option_bars
    op.create_table(
        "option_bars",
        sa.Column("contract_id", sa.BigInteger(), nullable=False),
        sa.Column("what_to_show", sa.String(length=32), nullable=False),
        sa.Column("bar_size", sa.String(length=16), nullable=False),
        sa.Column("time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("open", sa.Double(), nullable=True),
        sa.Column("high", sa.Double(), nullable=True),
        sa.Column("low", sa.Double(), nullable=True),
        sa.Column("close", sa.Double(), nullable=True),
        sa.Column("volume", sa.Double(), nullable=True),
        sa.Column("wap", sa.Double(), nullable=True),
        sa.Column("bar_count", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["contract_id"],
            ["option_chains.id"],
            name=op.f("fk_option_bars_contract_id_option_chains"),
        ),
        sa.PrimaryKeyConstraint(
            "contract_id", "what_to_show", "bar_size", "time", name=op.f("pk_option_bars")
        ),
        **kw,
    )
    # stock_bars
    op.create_table(
        "stock_bars",
        sa.Column("underlying_id", sa.BigInteger(), nullable=False),
        sa.Column("what_to_show", sa.String(length=32), nullable=False),
        sa.Column("bar_size", sa.String(length=16), nullable=False),
        sa.Column("time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("open", sa.Double(), nullable=True),
        sa.Column("high", sa.Double(), nullable=True),
        sa.Column("low", sa.Double(), nullable=True),
        sa.Column("close", sa.Double(), nullable=True),
        sa.Column("volume", sa.Double(), nullable=True),
        sa.Column("wap", sa.Double(), nullable=True),
        sa.Column("bar_count", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["underlying_id"],
            ["underlying_securities.id"],
            name=op.f("fk_stock_bars_underlying_id_underlying_securities"),
        ),
        sa.PrimaryKeyConstraint(
            "underlying_id", "what_to_show", "bar_size", "time", name=op.f("pk_stock_bars")
        ),
        **kw,
    )


def upgrade() -> None:
    """Create the time-series tables on the chosen backend."""
    conn = op.get_bind()
    backend = resolve_backend(conn, _requested_backend())
    if backend is Backend.TIMESCALE:
        from alc_data.errors import BackendUnavailableError

        raise BackendUnavailableError(
            "this version of alc-data cannot build the TimescaleDB backend yet; "
            "set ALC_BACKEND=postgres"
        )
    _create_tables(postgresql_partition_by="RANGE (time)")
    for statement in partitioning.upgrade_statements():
        op.execute(statement)
    write_meta(conn, "backend", backend.value)


def downgrade() -> None:
    """Drop the time-series tables and everything the backend added for them."""
    conn = op.get_bind()
    if recorded_backend(conn) is Backend.POSTGRES:
        for statement in partitioning.downgrade_statements():
            op.execute(statement)
    for table in reversed(TABLES):
        op.drop_table(table)
    op.execute("DELETE FROM alc_meta WHERE key = 'backend'")
