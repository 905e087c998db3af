"""alc-data: capture, store, check and serve options market data for arbitrage backtesting."""

from __future__ import annotations

from alc_data.config import Settings, load_settings
from alc_data.db.database import Database
from alc_data.errors import AlcDataError
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

__all__ = ["AlcDataError", "Database", "Settings", "load_settings"]
__all__ += [
    "BacktestRunRepository",
    "ChainSnapshot",
    "ContractQuote",
    "CorporateActionRepository",
    "DataQualityRepository",
    "MarketEventRepository",
    "OpportunityRepository",
    "OptionBarRepository",
    "OptionBarRow",
    "OptionBarWriter",
    "OptionChainRepository",
    "OptionTick",
    "OptionTickRepository",
    "QuoteBar",
    "Repositories",
    "SecurityRepository",
    "StockBarRepository",
    "StockBarRow",
    "StockBarWriter",
    "StockTick",
    "StockTickRepository",
    "StockTickWriter",
    "TickWriter",
    "WriterCounts",
]
__all__ += ["DataValidator", "MarketDataSnapshot", "ValidationResult", "ValidationRule"]
__version__ = "0.1.0"
