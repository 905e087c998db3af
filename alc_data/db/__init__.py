"""Database layer: models, engine and the DDL builders used by the migrations."""

from alc_data.db.base import Base, UTCDateTime
from alc_data.db.models import (
    AlcMeta,
    ArbitrageOpportunity,
    BacktestRun,
    CorporateAction,
    DataQualityMetric,
    DataSource,
    HistoryRequest,
    MarketDataTick,
    MarketEvent,
    OptionBar,
    OptionContract,
    StockBar,
    StockDataTick,
    UnderlyingSecurity,
)

__all__ = [
    "AlcMeta",
    "ArbitrageOpportunity",
    "BacktestRun",
    "Base",
    "CorporateAction",
    "DataQualityMetric",
    "DataSource",
    "HistoryRequest",
    "MarketDataTick",
    "MarketEvent",
    "OptionBar",
    "OptionContract",
    "StockBar",
    "StockDataTick",
    "UTCDateTime",
    "UnderlyingSecurity",
]
