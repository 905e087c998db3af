"""alc-data: capture, store, check and serve options market data for arbitrage backtesting.

The names documented in the original README keep their shape::

    from alc_data import OptionsDataCollector, HistoricalDataLoader, DataValidator
"""

from __future__ import annotations

from alc_data.collector import CollectorConfig, OptionsDataCollector
from alc_data.config import Settings, load_settings
from alc_data.db.database import Database
from alc_data.errors import AlcDataError
from alc_data.loader import HistoricalDataLoader, LoaderConfig
from alc_data.repositories import (
    BacktestRunRepository,
    ChainSnapshot,
    ContractQuote,
    CorporateActionRepository,
    DataQualityRepository,
    MarketEventRepository,
    OpportunityRepository,
    OptionBarRepository,
    OptionBarRow,
    OptionBarWriter,
    OptionChainRepository,
    OptionTick,
    OptionTickRepository,
    QuoteBar,
    Repositories,
    SecurityRepository,
    StockBarRepository,
    StockBarRow,
    StockBarWriter,
    StockTick,
    StockTickRepository,
    StockTickWriter,
    TickWriter,
    WriterCounts,
)
from alc_data.validation import (
    DataValidator,
    MarketDataSnapshot,
    ValidationResult,
    ValidationRule,
)

__version__ = "0.1.0"
__all__ = [
    "AlcDataError",
    "BacktestRunRepository",
    "ChainSnapshot",
    "CollectorConfig",
    "ContractQuote",
    "CorporateActionRepository",
    "DataQualityRepository",
    "DataValidator",
    "Database",
    "HistoricalDataLoader",
    "LoaderConfig",
    "MarketDataSnapshot",
    "MarketEventRepository",
    "OpportunityRepository",
    "OptionBarRepository",
    "OptionBarRow",
    "OptionBarWriter",
    "OptionChainRepository",
    "OptionTick",
    "OptionTickRepository",
    "OptionsDataCollector",
    "QuoteBar",
    "Repositories",
    "SecurityRepository",
    "Settings",
    "StockBarRepository",
    "StockBarRow",
    "StockBarWriter",
    "StockTick",
    "StockTickRepository",
    "StockTickWriter",
    "TickWriter",
    "ValidationResult",
    "ValidationRule",
    "WriterCounts",
    "load_settings",
]
