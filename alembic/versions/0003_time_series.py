"""Time-series tables (ticks, bars) on the backend recorded by revision 0002.

- plain PostgreSQL: tick tables range-partitioned by UTC day, bar tables by UTC month, rollup
  tables, monitoring views and maintenance functions (``alc_data.db.partitioning``);
- TimescaleDB: hypertables with columnstore and its policy, continuous aggregates created
  WITH NO DATA outside a transaction block, refresh and retention policies, and the same views
  and functions over ``timescaledb_information`` (``alc_data.db.timescale``).

Revision ID: 0003
Revises: 0002
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import context, op

from alc_data.config import Backend
from alc_data.db import partitioning, timescale
from alc_data.db.backend import recorded_backend

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("market_data_ticks", "stock_data_ticks", "option_bars", "stock_bars")
#: What the downgrade deletes (refused unless asked: alc_data.db.migrate.refuse_data_loss), and
#: what it leaves describing data that is gone (the loader's progress: emptied with it).
DROPS_DATA = TABLES
INVALIDATES = ("history_requests",)


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


def _upgrade_timescale(conn: sa.Connection) -> None:
    _create_tables()
    for statement in timescale.table_statements():
        op.execute(statement)
    # TimescaleDB refuses to create continuous aggregates inside a transaction block.
    with op.get_context().autocommit_block():
        for statement in timescale.aggregate_statements():
            op.execute(statement)
    for statement in timescale.policy_statements(context.config.attributes.get("retention_days")):
        op.execute(statement)


def upgrade() -> None:
    """Create the time-series tables on the recorded backend."""
    conn = op.get_bind()
    backend = recorded_backend(conn)
    if backend is Backend.TIMESCALE:
        _upgrade_timescale(conn)
        return
    _create_tables(postgresql_partition_by="RANGE (time)")
    for statement in partitioning.upgrade_statements():
        op.execute(statement)


def downgrade() -> None:
    """Drop the time-series tables and everything the backend added for them."""
    backend = recorded_backend(op.get_bind())
    if backend is Backend.TIMESCALE:
        with op.get_context().autocommit_block():
            for statement in timescale.downgrade_statements():
                op.execute(statement)
    else:
        for statement in partitioning.downgrade_statements():
            op.execute(statement)
    for table in reversed(TABLES):
        op.drop_table(table)
