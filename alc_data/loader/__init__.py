"""The historical loader: IB history bars of a symbol and its live options, paced and resumable.

``HistoricalDataLoader(db, ib).load_symbol_history("SPY", start_date=..., end_date=...)``; see
:mod:`alc_data.loader.loader` for the steps, :mod:`alc_data.loader.plan` for the request plan,
:mod:`alc_data.loader.scheduler` for the pacing and :mod:`alc_data.loader.progress` for resume.
"""

from __future__ import annotations

from alc_data.loader.config import LoaderConfig
from alc_data.loader.estimate import LoadEstimate
from alc_data.loader.loader import HistoricalDataLoader
from alc_data.loader.scheduler import PacingScheduler
from alc_data.loader.stats import STATS_KEYS, LoadProgress

__all__ = [
    "STATS_KEYS",
    "HistoricalDataLoader",
    "LoadEstimate",
    "LoadProgress",
    "LoaderConfig",
    "PacingScheduler",
]
