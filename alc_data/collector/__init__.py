"""The real-time collector: IB market data -> sampled rows -> the database (spooled on outages).

See :class:`OptionsDataCollector`; "changed" is defined in :mod:`alc_data.collector.sampling`,
the spool format and shed policy in :mod:`alc_data.collector.spool`, gaps in
:mod:`alc_data.collector.connection`.
"""

from __future__ import annotations

from alc_data.collector.collector import OptionsDataCollector
from alc_data.collector.config import CollectorConfig
from alc_data.collector.spool import SpoolLockedError

__all__ = ["CollectorConfig", "OptionsDataCollector", "SpoolLockedError"]
