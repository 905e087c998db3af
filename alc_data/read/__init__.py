"""The backtest read path at columnar speed: Arrow frames, streaming replay, snapshots.

``ArrowReader`` answers every time-series table as an Apache Arrow table (zero-copy to polars
with ``polars.from_arrow`` and to pandas with ``table.to_pandas()``) and replays an underlying's
chain in time order with bounded memory. Imported lazily: ``alc_data.db.snapshot_sql`` (used
by the repositories) does not load pyarrow.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from alc_data.read.frames import ArrowReader
    from alc_data.read.replay import Replay

_HOMES = {"ArrowReader": "alc_data.read.frames", "Replay": "alc_data.read.replay"}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'alc_data.read' has no attribute {name!r}")
    return getattr(importlib.import_module(home), name)


__all__ = ["ArrowReader", "Replay"]
