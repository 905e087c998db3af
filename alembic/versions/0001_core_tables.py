"""Core tables: securities, contracts, opportunities, corporate actions, events, quality,
backtests, loader progress and alc_meta. The time-series tables come in 0002.

Revision ID: 0001
Revises:

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: What the downgrade deletes (refused unless asked: alc_data.db.migrate.refuse_data_loss).
DROPS_DATA = (
    "underlying_securities",
    "option_chains",
    "arbitrage_opportunities",
    "corporate_actions",
    "market_events",
    "data_quality_metrics",
    "backtest_runs",
    "history_requests",
)


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "alc_meta",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_alc_meta")),
    )
    op.create_table(
        "backtest_runs",
        sa.Column("run_id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("strategy_type", sa.String(length=32), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=False),
        sa.Column("symbols", sa.ARRAY(sa.Text()), nullable=False),
        sa.Column("parameters", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("total_trades", sa.Integer(), nullable=True),
        sa.Column("winning_trades", sa.Integer(), nullable=True),
        sa.Column("losing_trades", sa.Integer(), nullable=True),
        sa.Column("total_profit", sa.Double(), nullable=True),
        sa.Column("max_drawdown", sa.Double(), nullable=True),
        sa.Column("sharpe_ratio", sa.Double(), nullable=True),
        sa.Column("win_rate", sa.Double(), nullable=True),
        sa.Column("status", sa.String(length=16), server_default="PENDING", nullable=False),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.Column("execution_time_seconds", sa.Double(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status IN ('PENDING', 'RUNNING', 'COMPLETED', 'FAILED')",
            name=op.f("ck_backtest_runs_status"),
        ),
        sa.PrimaryKeyConstraint("run_id", name=op.f("pk_backtest_runs")),
    )
    op.create_table(
        "history_requests",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("instrument_kind", sa.String(length=8), nullable=False),
        sa.Column("instrument_id", sa.BigInteger(), nullable=False),
        sa.Column("what_to_show", sa.String(length=32), nullable=False),
        sa.Column("bar_size", sa.String(length=16), nullable=False),
        sa.Column("trading_day", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("bars", sa.Integer(), server_default="0", nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column(
            "requested_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "instrument_kind IN ('option', 'stock')",
            name=op.f("ck_history_requests_instrument_kind"),
        ),
        sa.CheckConstraint(
            "status IN ('done', 'empty', 'failed', 'unavailable')",
            name=op.f("ck_history_requests_status"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_history_requests")),
        sa.UniqueConstraint(
            "instrument_kind",
            "instrument_id",
            "what_to_show",
            "bar_size",
            "trading_day",
            name=op.f(
                "uq_history_requests_instrument_kind_instrument_id_what_to_show_bar_size_trading_day"
            ),
        ),
    )
    op.create_table(
        "underlying_securities",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("symbol", sa.String(length=32), nullable=False),
        sa.Column("sec_type", sa.String(length=8), server_default="STK", nullable=False),
        sa.Column("exchange", sa.String(length=32), server_default="SMART", nullable=False),
        sa.Column("primary_exchange", sa.String(length=32), nullable=True),
        sa.Column("currency", sa.String(length=8), server_default="USD", nullable=False),
        sa.Column("ib_con_id", sa.BigInteger(), nullable=True),
        sa.Column("name", sa.Text(), nullable=True),
        sa.Column("sector", sa.Text(), nullable=True),
        sa.Column("industry", sa.Text(), nullable=True),
        sa.Column("market_cap", sa.Double(), nullable=True),
        sa.Column("active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "sec_type IN ('STK', 'IND')", name=op.f("ck_underlying_securities_sec_type")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_underlying_securities")),
        sa.UniqueConstraint("ib_con_id", name=op.f("uq_underlying_securities_ib_con_id")),
        sa.UniqueConstraint(
            "symbol", "sec_type", name=op.f("uq_underlying_securities_symbol_sec_type")
        ),
    )
    op.create_table(
        "corporate_actions",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("underlying_id", sa.BigInteger(), nullable=False),
        sa.Column("action_type", sa.String(length=16), nullable=False),
        sa.Column("ex_date", sa.Date(), nullable=False),
        sa.Column("record_date", sa.Date(), nullable=True),
        sa.Column("payable_date", sa.Date(), nullable=True),
        sa.Column("amount", sa.Double(), nullable=True),
        sa.Column("split_from", sa.Integer(), nullable=True),
        sa.Column("split_to", sa.Integer(), nullable=True),
        sa.Column("adjustment_factor", sa.Double(), nullable=True),
        sa.Column("deliverable", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("processed", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "action_type IN ('DIVIDEND', 'SPECIAL_DIV', 'SPLIT', 'REVERSE_SPLIT', 'MERGER', "
            "'SPINOFF', 'SYMBOL_CHANGE')",
            name=op.f("ck_corporate_actions_action_type"),
        ),
        sa.CheckConstraint(
            "adjustment_factor IS NULL OR adjustment_factor > 0",
            name=op.f("ck_corporate_actions_adjustment_factor"),
        ),
        sa.ForeignKeyConstraint(
            ["underlying_id"],
            ["underlying_securities.id"],
            name=op.f("fk_corporate_actions_underlying_id_underlying_securities"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_corporate_actions")),
    )
    op.create_index(
        op.f("ix_corporate_actions_underlying_id"),
        "corporate_actions",
        ["underlying_id", "ex_date"],
        unique=False,
    )
    op.create_table(
        "market_events",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("event_date", sa.Date(), nullable=False),
        sa.Column("event_type", sa.String(length=16), nullable=False),
        sa.Column("underlying_id", sa.BigInteger(), nullable=True),
        sa.Column("start_time", sa.DateTime(timezone=True), nullable=True),
        sa.Column("end_time", sa.DateTime(timezone=True), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "event_type IN ('HOLIDAY', 'EARLY_CLOSE', 'HALT', 'CIRCUIT_BREAKER')",
            name=op.f("ck_market_events_event_type"),
        ),
        sa.ForeignKeyConstraint(
            ["underlying_id"],
            ["underlying_securities.id"],
            name=op.f("fk_market_events_underlying_id_underlying_securities"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_market_events")),
    )
    op.create_index(
        op.f("ix_market_events_event_date"), "market_events", ["event_date"], unique=False
    )
    op.create_table(
        "option_chains",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("underlying_id", sa.BigInteger(), nullable=False),
        sa.Column("expiration_date", sa.Date(), nullable=False),
        sa.Column("strike_price", sa.Numeric(precision=12, scale=4), nullable=False),
        sa.Column("option_type", sa.String(length=1), nullable=False),
        sa.Column("multiplier", sa.Integer(), server_default="100", nullable=False),
        sa.Column("trading_class", sa.String(length=32), nullable=False),
        sa.Column("exchange", sa.String(length=32), server_default="SMART", nullable=False),
        sa.Column("currency", sa.String(length=8), server_default="USD", nullable=False),
        sa.Column("contract_symbol", sa.String(length=32), nullable=True),
        sa.Column("ib_con_id", sa.BigInteger(), nullable=True),
        sa.Column("active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint("option_type IN ('C', 'P')", name=op.f("ck_option_chains_option_type")),
        sa.CheckConstraint("multiplier > 0", name=op.f("ck_option_chains_multiplier_positive")),
        sa.CheckConstraint("strike_price > 0", name=op.f("ck_option_chains_strike_positive")),
        sa.ForeignKeyConstraint(
            ["underlying_id"],
            ["underlying_securities.id"],
            name=op.f("fk_option_chains_underlying_id_underlying_securities"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_option_chains")),
        sa.UniqueConstraint("contract_symbol", name=op.f("uq_option_chains_contract_symbol")),
        sa.UniqueConstraint("ib_con_id", name=op.f("uq_option_chains_ib_con_id")),
        sa.UniqueConstraint(
            "underlying_id",
            "expiration_date",
            "strike_price",
            "option_type",
            "trading_class",
            "multiplier",
            name=op.f(
                "uq_option_chains_underlying_id_expiration_date_strike_price_option_type_trading_class_multiplier"
            ),
        ),
    )
    op.create_index(
        op.f("ix_option_chains_expiration_date"), "option_chains", ["expiration_date"], unique=False
    )
    op.create_table(
        "arbitrage_opportunities",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("strategy_type", sa.String(length=32), nullable=False),
        sa.Column("underlying_id", sa.BigInteger(), nullable=False),
        sa.Column(
            "timestamp", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.Column("expiration_date", sa.Date(), nullable=True),
        sa.Column("call_strike", sa.Numeric(precision=12, scale=4), nullable=True),
        sa.Column("put_strike", sa.Numeric(precision=12, scale=4), nullable=True),
        sa.Column("call_contract_id", sa.BigInteger(), nullable=True),
        sa.Column("put_contract_id", sa.BigInteger(), nullable=True),
        sa.Column("near_expiry", sa.Date(), nullable=True),
        sa.Column("far_expiry", sa.Date(), nullable=True),
        sa.Column("second_call_contract_id", sa.BigInteger(), nullable=True),
        sa.Column("second_put_contract_id", sa.BigInteger(), nullable=True),
        sa.Column("stock_price", sa.Double(), nullable=True),
        sa.Column("call_bid", sa.Double(), nullable=True),
        sa.Column("call_ask", sa.Double(), nullable=True),
        sa.Column("put_bid", sa.Double(), nullable=True),
        sa.Column("put_ask", sa.Double(), nullable=True),
        sa.Column("theoretical_profit", sa.Double(), nullable=True),
        sa.Column("max_profit", sa.Double(), nullable=True),
        sa.Column("min_profit", sa.Double(), nullable=True),
        sa.Column("roi_percent", sa.Double(), nullable=True),
        sa.Column("net_credit", sa.Double(), nullable=True),
        sa.Column("cost_basis", sa.Double(), nullable=True),
        sa.Column("confidence_score", sa.Double(), nullable=True),
        sa.Column("execution_window_ms", sa.Integer(), nullable=True),
        sa.Column("slippage_risk", sa.String(length=8), nullable=True),
        sa.Column("discovered_by", sa.Text(), nullable=True),
        sa.Column(
            "execution_attempted", sa.Boolean(), server_default=sa.text("false"), nullable=False
        ),
        sa.Column("execution_successful", sa.Boolean(), nullable=True),
        sa.Column("actual_profit", sa.Double(), nullable=True),
        sa.Column("details", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "slippage_risk IS NULL OR slippage_risk IN ('LOW', 'MEDIUM', 'HIGH')",
            name=op.f("ck_arbitrage_opportunities_slippage_risk"),
        ),
        sa.CheckConstraint(
            "confidence_score IS NULL OR confidence_score BETWEEN 0 AND 1",
            name=op.f("ck_arbitrage_opportunities_confidence_score"),
        ),
        sa.ForeignKeyConstraint(
            ["call_contract_id"],
            ["option_chains.id"],
            name=op.f("fk_arbitrage_opportunities_call_contract_id_option_chains"),
        ),
        sa.ForeignKeyConstraint(
            ["put_contract_id"],
            ["option_chains.id"],
            name=op.f("fk_arbitrage_opportunities_put_contract_id_option_chains"),
        ),
        sa.ForeignKeyConstraint(
            ["second_call_contract_id"],
            ["option_chains.id"],
            name=op.f("fk_arbitrage_opportunities_second_call_contract_id_option_chains"),
        ),
        sa.ForeignKeyConstraint(
            ["second_put_contract_id"],
            ["option_chains.id"],
            name=op.f("fk_arbitrage_opportunities_second_put_contract_id_option_chains"),
        ),
        sa.ForeignKeyConstraint(
            ["underlying_id"],
            ["underlying_securities.id"],
            name=op.f("fk_arbitrage_opportunities_underlying_id_underlying_securities"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_arbitrage_opportunities")),
    )
    op.create_index(
        op.f("ix_arbitrage_opportunities_strategy_type"),
        "arbitrage_opportunities",
        ["strategy_type", "timestamp"],
        unique=False,
    )
    op.create_index(
        op.f("ix_arbitrage_opportunities_underlying_id"),
        "arbitrage_opportunities",
        ["underlying_id", "timestamp"],
        unique=False,
    )
    op.create_table(
        "data_quality_metrics",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column(
            "check_timestamp",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("run_id", sa.UUID(), nullable=False),
        sa.Column("underlying_id", sa.BigInteger(), nullable=True),
        sa.Column("contract_id", sa.BigInteger(), nullable=True),
        sa.Column("metric_type", sa.String(length=64), nullable=False),
        sa.Column("rule", sa.String(length=64), nullable=True),
        sa.Column("severity", sa.String(length=16), server_default="info", nullable=False),
        sa.Column("metric_value", sa.Double(), nullable=True),
        sa.Column("threshold_value", sa.Double(), nullable=True),
        sa.Column("passed", sa.Boolean(), nullable=True),
        sa.Column("details", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "severity IN ('info', 'warning', 'invalid', 'critical')",
            name=op.f("ck_data_quality_metrics_severity"),
        ),
        sa.ForeignKeyConstraint(
            ["contract_id"],
            ["option_chains.id"],
            name=op.f("fk_data_quality_metrics_contract_id_option_chains"),
        ),
        sa.ForeignKeyConstraint(
            ["underlying_id"],
            ["underlying_securities.id"],
            name=op.f("fk_data_quality_metrics_underlying_id_underlying_securities"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_data_quality_metrics")),
    )
    op.create_index(
        op.f("ix_data_quality_metrics_check_timestamp"),
        "data_quality_metrics",
        ["check_timestamp"],
        unique=False,
    )
    op.create_index(
        op.f("ix_data_quality_metrics_run_id"), "data_quality_metrics", ["run_id"], unique=False
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index(op.f("ix_data_quality_metrics_run_id"), table_name="data_quality_metrics")
    op.drop_index(
        op.f("ix_data_quality_metrics_check_timestamp"), table_name="data_quality_metrics"
    )
    op.drop_table("data_quality_metrics")
    op.drop_index(
        op.f("ix_arbitrage_opportunities_underlying_id"), table_name="arbitrage_opportunities"
    )
    op.drop_index(
        op.f("ix_arbitrage_opportunities_strategy_type"), table_name="arbitrage_opportunities"
    )
    op.drop_table("arbitrage_opportunities")
    op.drop_index(op.f("ix_option_chains_expiration_date"), table_name="option_chains")
    op.drop_table("option_chains")
    op.drop_index(op.f("ix_market_events_event_date"), table_name="market_events")
    op.drop_table("market_events")
    op.drop_index(op.f("ix_corporate_actions_underlying_id"), table_name="corporate_actions")
    op.drop_table("corporate_actions")
    op.drop_table("underlying_securities")
    op.drop_table("history_requests")
    op.drop_table("backtest_runs")
    op.drop_table("alc_meta")
