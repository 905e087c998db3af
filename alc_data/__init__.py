"""alc-data: capture, store, check and serve options market data for arbitrage backtesting."""

from __future__ import annotations

from alc_data.config import Settings, load_settings
from alc_data.db.database import Database
from alc_data.errors import AlcDataError

__all__ = ["AlcDataError", "Database", "Settings", "load_settings"]
__version__ = "0.1.0"
