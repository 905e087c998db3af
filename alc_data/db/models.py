"""SQLAlchemy models of the logical schema (DESIGN.md section 3).

Table and column names are a compatibility contract with the original documentation. Migrations
never import this module; ``alembic check`` proves the two agree.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    ARRAY,
    BigInteger,
    Boolean,
    CheckConstraint,
    Computed,
    Date,
    ForeignKey,
    Identity,
    Index,
    Integer,
    Numeric,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column, relationship
from sqlalchemy.sql.elements import conv

from alc_data.db.base import Base, UTCDateTime

_NOW = func.now()


def _created() -> Mapped[datetime]:
    return mapped_column(UTCDateTime(), server_default=_NOW, nullable=False)


def _identity() -> Mapped[int]:
    return mapped_column(BigInteger, Identity(always=False), primary_key=True)


#: ``data_sources.id`` of rows written without naming a source (the columns' default).
UNSPECIFIED_SOURCE_ID = 2


def _source_key() -> Mapped[int]:
    """``source_id`` as part of a time-series key (no foreign key: see revision 0006)."""
    return mapped_column(SmallInteger, primary_key=True, server_default=str(UNSPECIFIED_SOURCE_ID))


def _source_ref() -> Mapped[int]:
    return mapped_column(
        SmallInteger, ForeignKey("data_sources.id"), server_default=str(UNSPECIFIED_SOURCE_ID)
    )


class DataSource(Base):
    """Where rows came from: a broker account type, the simulator, a vendor dataset, a user.

    ``kind`` is ``broker``, ``simulator``, ``vendor``, ``user`` or ``unknown`` (only the
    ``legacy`` source: rows stored before provenance was recorded). ``details`` holds what
    identifies the source further (account type, market-data types, vendor dataset).
    """

    __tablename__ = "data_sources"
    __table_args__ = (
        UniqueConstraint("name"),
        CheckConstraint(
            "kind IN ('broker', 'simulator', 'vendor', 'user', 'unknown')", name="kind"
        ),
    )

    id: Mapped[int] = mapped_column(SmallInteger, Identity(always=False), primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))
    details: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))
    first_written: Mapped[datetime | None]
    last_written: Mapped[datetime | None]
    created_at: Mapped[datetime] = _created()


class UnderlyingSecurity(Base):
    """A stock, ETF or index that options are listed on."""

    __tablename__ = "underlying_securities"
    __table_args__ = (
        UniqueConstraint("symbol", "sec_type"),
        UniqueConstraint("ib_con_id"),
        CheckConstraint("sec_type IN ('STK', 'IND')", name="sec_type"),
    )

    id: Mapped[int] = _identity()
    symbol: Mapped[str] = mapped_column(String(32))
    sec_type: Mapped[str] = mapped_column(String(8), server_default="STK")
    exchange: Mapped[str] = mapped_column(String(32), server_default="SMART")
    primary_exchange: Mapped[str | None] = mapped_column(String(32))
    currency: Mapped[str] = mapped_column(String(8), server_default="USD")
    ib_con_id: Mapped[int | None]
    name: Mapped[str | None] = mapped_column(Text)
    sector: Mapped[str | None] = mapped_column(Text)
    industry: Mapped[str | None] = mapped_column(Text)
    market_cap: Mapped[float | None]
    active: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    created_at: Mapped[datetime] = _created()
    updated_at: Mapped[datetime] = _created()

    contracts: Mapped[list[OptionContract]] = relationship(
        back_populates="underlying", order_by="OptionContract.id"
    )

    def __repr__(self) -> str:
        return f"UnderlyingSecurity(id={self.id!r}, symbol={self.symbol!r})"


class OptionContract(Base):
    """One listed option contract; kept after it expires because backtests need it."""

    __tablename__ = "option_chains"
    __table_args__ = (
        UniqueConstraint(
            "underlying_id",
            "expiration_date",
            "strike_price",
            "option_type",
            "trading_class",
            "multiplier",
        ),
        UniqueConstraint("ib_con_id"),
        UniqueConstraint("contract_symbol"),
        CheckConstraint("option_type IN ('C', 'P')", name="option_type"),
        CheckConstraint("strike_price > 0", name="strike_positive"),
        CheckConstraint("multiplier > 0", name="multiplier_positive"),
        Index(None, "expiration_date"),
    )

    id: Mapped[int] = _identity()
    underlying_id: Mapped[int] = mapped_column(ForeignKey("underlying_securities.id"))
    expiration_date: Mapped[date] = mapped_column(Date)
    strike_price: Mapped[Decimal] = mapped_column(Numeric(12, 4))
    option_type: Mapped[str] = mapped_column(String(1))
    multiplier: Mapped[int] = mapped_column(Integer, server_default="100")
    trading_class: Mapped[str] = mapped_column(String(32))
    exchange: Mapped[str] = mapped_column(String(32), server_default="SMART")
    currency: Mapped[str] = mapped_column(String(8), server_default="USD")
    contract_symbol: Mapped[str | None] = mapped_column(String(32))
    ib_con_id: Mapped[int | None]
    active: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    created_at: Mapped[datetime] = _created()
    updated_at: Mapped[datetime] = _created()

    underlying: Mapped[UnderlyingSecurity] = relationship(back_populates="contracts")

    def __repr__(self) -> str:
        return (
            f"OptionContract(id={self.id!r}, {self.contract_symbol or ''!s} "
            f"{self.expiration_date} {self.strike_price} {self.option_type})"
        )


class MarketDataTick(Base):
    """One option quote; primary key ``(contract_id, source_id, time)``, partitioned by day."""

    __tablename__ = "market_data_ticks"
    __table_args__ = (
        CheckConstraint(
            "tick_type IN ('REALTIME', 'DELAYED', 'FROZEN', 'SNAPSHOT')", name="tick_type"
        ),
    )

    contract_id: Mapped[int] = mapped_column(ForeignKey("option_chains.id"), primary_key=True)
    source_id: Mapped[int] = _source_key()
    time: Mapped[datetime] = mapped_column(primary_key=True)
    bid_price: Mapped[float | None]
    ask_price: Mapped[float | None]
    last_price: Mapped[float | None]
    bid_size: Mapped[int | None]
    ask_size: Mapped[int | None]
    last_size: Mapped[int | None]
    volume: Mapped[int | None]
    open_interest: Mapped[int | None]
    implied_volatility: Mapped[float | None]
    delta: Mapped[float | None]
    gamma: Mapped[float | None]
    theta: Mapped[float | None]
    vega: Mapped[float | None]
    rho: Mapped[float | None]
    underlying_price: Mapped[float | None]
    tick_type: Mapped[str] = mapped_column(String(16), server_default="REALTIME")
    mid_price: Mapped[float | None] = mapped_column(
        Computed("(bid_price + ask_price) / 2", persisted=True)
    )
    bid_ask_spread: Mapped[float | None] = mapped_column(
        Computed("ask_price - bid_price", persisted=True)
    )


class StockDataTick(Base):
    """One quote or trade of an underlying; primary key ``(underlying_id, source_id, time)``."""

    __tablename__ = "stock_data_ticks"
    __table_args__ = (
        CheckConstraint(
            "tick_type IN ('REALTIME', 'DELAYED', 'FROZEN', 'SNAPSHOT')", name="tick_type"
        ),
    )

    underlying_id: Mapped[int] = mapped_column(
        ForeignKey("underlying_securities.id"), primary_key=True
    )
    source_id: Mapped[int] = _source_key()
    time: Mapped[datetime] = mapped_column(primary_key=True)
    price: Mapped[float | None]
    bid_price: Mapped[float | None]
    ask_price: Mapped[float | None]
    bid_size: Mapped[float | None]
    ask_size: Mapped[float | None]
    volume: Mapped[float | None]
    vwap: Mapped[float | None]
    tick_type: Mapped[str] = mapped_column(String(16), server_default="REALTIME")


class OptionBar(Base):
    """A history bar of an option as IB served it (what it is: BID_ASK, MIDPOINT, TRADES...)."""

    __tablename__ = "option_bars"

    contract_id: Mapped[int] = mapped_column(ForeignKey("option_chains.id"), primary_key=True)
    source_id: Mapped[int] = _source_key()
    what_to_show: Mapped[str] = mapped_column(String(32), primary_key=True)
    bar_size: Mapped[str] = mapped_column(String(16), primary_key=True)
    time: Mapped[datetime] = mapped_column(primary_key=True)
    open: Mapped[float | None]
    high: Mapped[float | None]
    low: Mapped[float | None]
    close: Mapped[float | None]
    volume: Mapped[float | None]
    wap: Mapped[float | None]
    bar_count: Mapped[int | None] = mapped_column(Integer)


class StockBar(Base):
    """A history bar of an underlying, including its 30-day implied/historical volatility."""

    __tablename__ = "stock_bars"

    underlying_id: Mapped[int] = mapped_column(
        ForeignKey("underlying_securities.id"), primary_key=True
    )
    source_id: Mapped[int] = _source_key()
    what_to_show: Mapped[str] = mapped_column(String(32), primary_key=True)
    bar_size: Mapped[str] = mapped_column(String(16), primary_key=True)
    time: Mapped[datetime] = mapped_column(primary_key=True)
    open: Mapped[float | None]
    high: Mapped[float | None]
    low: Mapped[float | None]
    close: Mapped[float | None]
    volume: Mapped[float | None]
    wap: Mapped[float | None]
    bar_count: Mapped[int | None] = mapped_column(Integer)


class HistoryRequest(Base):
    """The loader's progress: one row per instrument, series and trading day."""

    __tablename__ = "history_requests"
    __table_args__ = (
        UniqueConstraint(
            "source_id",
            "instrument_kind",
            "instrument_id",
            "what_to_show",
            "bar_size",
            "trading_day",
            name=conv("uq_history_requests_source_id"),
        ),
        CheckConstraint("instrument_kind IN ('option', 'stock')", name="instrument_kind"),
        CheckConstraint("status IN ('done', 'empty', 'failed', 'unavailable')", name="status"),
    )

    id: Mapped[int] = _identity()
    source_id: Mapped[int] = _source_ref()
    instrument_kind: Mapped[str] = mapped_column(String(8))
    instrument_id: Mapped[int]
    what_to_show: Mapped[str] = mapped_column(String(32))
    bar_size: Mapped[str] = mapped_column(String(16))
    trading_day: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16))
    bars: Mapped[int] = mapped_column(Integer, server_default="0")
    attempts: Mapped[int] = mapped_column(Integer, server_default="0")
    last_error: Mapped[str | None] = mapped_column(Text)
    requested_at: Mapped[datetime] = _created()
    completed_at: Mapped[datetime | None]


class HistoryPacingEntry(Base):
    """One history request in IB's pacing windows of a gateway (``host:port``), shared by
    every loader process that uses that gateway (see :mod:`alc_data.loader.ledger`).

    ``answered_at`` is NULL while the request is in flight; rows older than IB's longest
    window are deleted by the loaders themselves.
    """

    __tablename__ = "history_pacing_ledger"
    __table_args__ = (Index(None, "gateway", "admitted_at"),)

    id: Mapped[int] = _identity()
    gateway: Mapped[str] = mapped_column(String(128))
    owner: Mapped[str] = mapped_column(String(128))
    contract: Mapped[str] = mapped_column(String(64))
    exchange: Mapped[str] = mapped_column(String(32))
    what_to_show: Mapped[str] = mapped_column(String(32))
    bar_size: Mapped[str] = mapped_column(String(16))
    duration: Mapped[str] = mapped_column(String(16))
    end_time: Mapped[str] = mapped_column(String(32))
    use_rth: Mapped[bool] = mapped_column(Boolean)
    admitted_at: Mapped[datetime] = _created()
    answered_at: Mapped[datetime | None]


class ArbitrageOpportunity(Base):
    """An opportunity a scanner found (SFR, SYNTHETIC, BOX, CALENDAR, ...)."""

    __tablename__ = "arbitrage_opportunities"
    __table_args__ = (
        CheckConstraint(
            "confidence_score IS NULL OR confidence_score BETWEEN 0 AND 1",
            name="confidence_score",
        ),
        CheckConstraint(
            "slippage_risk IS NULL OR slippage_risk IN ('LOW', 'MEDIUM', 'HIGH')",
            name="slippage_risk",
        ),
        Index(None, "underlying_id", "timestamp"),
        Index(None, "strategy_type", "timestamp"),
    )

    id: Mapped[int] = _identity()
    source_id: Mapped[int] = _source_ref()
    strategy_type: Mapped[str] = mapped_column(String(32))
    underlying_id: Mapped[int] = mapped_column(ForeignKey("underlying_securities.id"))
    timestamp: Mapped[datetime] = mapped_column(server_default=_NOW)
    expiration_date: Mapped[date | None] = mapped_column(Date)
    call_strike: Mapped[Decimal | None] = mapped_column(Numeric(12, 4))
    put_strike: Mapped[Decimal | None] = mapped_column(Numeric(12, 4))
    call_contract_id: Mapped[int | None] = mapped_column(ForeignKey("option_chains.id"))
    put_contract_id: Mapped[int | None] = mapped_column(ForeignKey("option_chains.id"))
    near_expiry: Mapped[date | None] = mapped_column(Date)
    far_expiry: Mapped[date | None] = mapped_column(Date)
    second_call_contract_id: Mapped[int | None] = mapped_column(ForeignKey("option_chains.id"))
    second_put_contract_id: Mapped[int | None] = mapped_column(ForeignKey("option_chains.id"))
    stock_price: Mapped[float | None]
    call_bid: Mapped[float | None]
    call_ask: Mapped[float | None]
    put_bid: Mapped[float | None]
    put_ask: Mapped[float | None]
    theoretical_profit: Mapped[float | None]
    max_profit: Mapped[float | None]
    min_profit: Mapped[float | None]
    roi_percent: Mapped[float | None]
    net_credit: Mapped[float | None]
    cost_basis: Mapped[float | None]
    confidence_score: Mapped[float | None]
    execution_window_ms: Mapped[int | None] = mapped_column(Integer)
    slippage_risk: Mapped[str | None] = mapped_column(String(8))
    discovered_by: Mapped[str | None] = mapped_column(Text)
    execution_attempted: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    execution_successful: Mapped[bool | None] = mapped_column(Boolean)
    actual_profit: Mapped[float | None]
    details: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    created_at: Mapped[datetime] = _created()


class CorporateAction(Base):
    """A dividend, split or other action; ``adjustment_factor`` applies before ``ex_date``."""

    __tablename__ = "corporate_actions"
    __table_args__ = (
        CheckConstraint(
            "action_type IN ('DIVIDEND', 'SPECIAL_DIV', 'SPLIT', 'REVERSE_SPLIT', 'MERGER', "
            "'SPINOFF', 'SYMBOL_CHANGE')",
            name="action_type",
        ),
        CheckConstraint(
            "adjustment_factor IS NULL OR adjustment_factor > 0", name="adjustment_factor"
        ),
        Index(None, "underlying_id", "ex_date"),
    )

    id: Mapped[int] = _identity()
    underlying_id: Mapped[int] = mapped_column(ForeignKey("underlying_securities.id"))
    action_type: Mapped[str] = mapped_column(String(16))
    ex_date: Mapped[date] = mapped_column(Date)
    record_date: Mapped[date | None] = mapped_column(Date)
    payable_date: Mapped[date | None] = mapped_column(Date)
    amount: Mapped[float | None]
    split_from: Mapped[int | None] = mapped_column(Integer)
    split_to: Mapped[int | None] = mapped_column(Integer)
    adjustment_factor: Mapped[float | None]
    deliverable: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    description: Mapped[str | None] = mapped_column(Text)
    processed: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    created_at: Mapped[datetime] = _created()


class MarketEvent(Base):
    """A holiday, early close, halt or circuit breaker (``underlying_id`` NULL = market-wide)."""

    __tablename__ = "market_events"
    __table_args__ = (
        CheckConstraint(
            "event_type IN ('HOLIDAY', 'EARLY_CLOSE', 'HALT', 'CIRCUIT_BREAKER')",
            name="event_type",
        ),
        Index(None, "event_date"),
    )

    id: Mapped[int] = _identity()
    event_date: Mapped[date] = mapped_column(Date)
    event_type: Mapped[str] = mapped_column(String(16))
    underlying_id: Mapped[int | None] = mapped_column(ForeignKey("underlying_securities.id"))
    start_time: Mapped[datetime | None]
    end_time: Mapped[datetime | None]
    description: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = _created()


class DataQualityMetric(Base):
    """One finding or summary value of a quality run (all rows of a run share ``run_id``)."""

    __tablename__ = "data_quality_metrics"
    __table_args__ = (
        CheckConstraint("severity IN ('info', 'warning', 'invalid', 'critical')", name="severity"),
        Index(None, "check_timestamp"),
        Index(None, "run_id"),
    )

    id: Mapped[int] = _identity()
    check_timestamp: Mapped[datetime] = mapped_column(server_default=_NOW)
    run_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    underlying_id: Mapped[int | None] = mapped_column(ForeignKey("underlying_securities.id"))
    contract_id: Mapped[int | None] = mapped_column(ForeignKey("option_chains.id"))
    metric_type: Mapped[str] = mapped_column(String(64))
    rule: Mapped[str | None] = mapped_column(String(64))
    severity: Mapped[str] = mapped_column(String(16), server_default="info")
    metric_value: Mapped[float | None]
    threshold_value: Mapped[float | None]
    passed: Mapped[bool | None] = mapped_column(Boolean)
    details: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    created_at: Mapped[datetime] = _created()


class BacktestRun(Base):
    """One backtest of a strategy over a period, with its results."""

    __tablename__ = "backtest_runs"
    __table_args__ = (
        CheckConstraint("status IN ('PENDING', 'RUNNING', 'COMPLETED', 'FAILED')", name="status"),
    )

    run_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), primary_key=True, server_default=func.gen_random_uuid()
    )
    strategy_type: Mapped[str] = mapped_column(String(32))
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date] = mapped_column(Date)
    symbols: Mapped[list[str]] = mapped_column(ARRAY(Text))
    parameters: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    total_trades: Mapped[int | None] = mapped_column(Integer)
    winning_trades: Mapped[int | None] = mapped_column(Integer)
    losing_trades: Mapped[int | None] = mapped_column(Integer)
    total_profit: Mapped[float | None]
    max_drawdown: Mapped[float | None]
    sharpe_ratio: Mapped[float | None]
    win_rate: Mapped[float | None]
    status: Mapped[str] = mapped_column(String(16), server_default="PENDING")
    error_message: Mapped[str | None] = mapped_column(Text)
    execution_time_seconds: Mapped[float | None]
    created_at: Mapped[datetime] = _created()
    completed_at: Mapped[datetime | None]


class AlcMeta(Base):
    """Key/value facts about this database: the backend chosen, TimescaleDB version..."""

    __tablename__ = "alc_meta"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class InstrumentAlias(Base):
    """A vendor's identifier of a contract (``option``) or an underlying (``stock``).

    Databento's ``instrument_id`` is reused from day to day on OPRA, so an alias is valid from
    ``valid_from`` until the same source's next row for that alias.
    """

    __tablename__ = "instrument_aliases"
    __table_args__ = (
        UniqueConstraint(
            "source_id",
            "alias",
            "valid_from",
            "instrument_kind",
            name=conv("uq_instrument_aliases_source_id"),
        ),
        CheckConstraint("instrument_kind IN ('option', 'stock')", name="instrument_kind"),
    )

    id: Mapped[int] = _identity()
    source_id: Mapped[int] = mapped_column(SmallInteger, ForeignKey("data_sources.id"))
    instrument_kind: Mapped[str] = mapped_column(String(8))
    instrument_id: Mapped[int] = mapped_column(BigInteger)
    alias: Mapped[str] = mapped_column(String(64))
    valid_from: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = _created()


class ImportFile(Base):
    """The importers' progress: one row per source, format and file content."""

    __tablename__ = "import_files"
    __table_args__ = (
        UniqueConstraint(
            "source_id", "format", "fingerprint", name=conv("uq_import_files_source_id")
        ),
        CheckConstraint("status IN ('running', 'done')", name="status"),
    )

    id: Mapped[int] = _identity()
    source_id: Mapped[int] = mapped_column(SmallInteger, ForeignKey("data_sources.id"))
    format: Mapped[str] = mapped_column(String(32))
    fingerprint: Mapped[str] = mapped_column(String(80))
    path: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16))
    rows_read: Mapped[int] = mapped_column(BigInteger, server_default="0")
    rows_written: Mapped[int] = mapped_column(BigInteger, server_default="0")
    duplicates: Mapped[int] = mapped_column(BigInteger, server_default="0")
    rejected: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))
    attempts: Mapped[int] = mapped_column(Integer, server_default="0")
    started_at: Mapped[datetime] = _created()
    completed_at: Mapped[datetime | None]
