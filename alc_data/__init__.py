"""alc-data: capture, store, check and serve options market data for arbitrage backtesting.

The names documented in the original README keep their shape::

    from alc_data import OptionsDataCollector, HistoricalDataLoader, DataValidator

The facade is lazy: each name imports its module on first use, so ``import alc_data.errors``
or ``import alc_data.config`` loads only what those modules need (not the collector, the
loader, ib_async or numpy).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
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

_HOMES: dict[str, str] = {
    "AlcDataError": "alc_data.errors",
    "BacktestRunRepository": "alc_data.repositories",
    "ChainSnapshot": "alc_data.repositories",
    "CollectorConfig": "alc_data.collector",
    "ContractQuote": "alc_data.repositories",
    "CorporateActionRepository": "alc_data.repositories",
    "DataQualityRepository": "alc_data.repositories",
    "DataValidator": "alc_data.validation",
    "Database": "alc_data.db.database",
    "HistoricalDataLoader": "alc_data.loader",
    "LoaderConfig": "alc_data.loader",
    "MarketDataSnapshot": "alc_data.validation",
    "MarketEventRepository": "alc_data.repositories",
    "OpportunityRepository": "alc_data.repositories",
    "OptionBarRepository": "alc_data.repositories",
    "OptionBarRow": "alc_data.repositories",
    "OptionBarWriter": "alc_data.repositories",
    "OptionChainRepository": "alc_data.repositories",
    "OptionTick": "alc_data.repositories",
    "OptionTickRepository": "alc_data.repositories",
    "OptionsDataCollector": "alc_data.collector",
    "QuoteBar": "alc_data.repositories",
    "Repositories": "alc_data.repositories",
    "SecurityRepository": "alc_data.repositories",
    "Settings": "alc_data.config",
    "StockBarRepository": "alc_data.repositories",
    "StockBarRow": "alc_data.repositories",
    "StockBarWriter": "alc_data.repositories",
    "StockTick": "alc_data.repositories",
    "StockTickRepository": "alc_data.repositories",
    "StockTickWriter": "alc_data.repositories",
    "TickWriter": "alc_data.repositories",
    "ValidationResult": "alc_data.validation",
    "ValidationRule": "alc_data.validation",
    "WriterCounts": "alc_data.repositories",
    "load_settings": "alc_data.config",
}
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


def __getattr__(name: str) -> Any:
    """Resolve a public name from its module on first use (PEP 562)."""
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_HOMES])
