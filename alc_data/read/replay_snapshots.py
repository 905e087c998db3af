"""Sampled replay states as :class:`~alc_data.ChainSnapshot` objects."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import numpy as np
import pyarrow as pa

from alc_data.db.rows import ChainSnapshot, ContractQuote, StockTick
from alc_data.db.source_filter import source_filter
from alc_data.read import schemas
from alc_data.read.literals import int_literal, time_literal
from alc_data.read.slice_streams import epoch_micros

if TYPE_CHECKING:
    from alc_data.read.replay import Replay

_NEW_YORK = ZoneInfo("America/New_York")
_QUOTE_FROM_TICK = (
    "time", "bid_price", "ask_price", "last_price", "bid_size", "ask_size", "volume",
    "open_interest", "implied_volatility", "delta", "gamma", "theta", "vega",
    "underlying_price",
)  # fmt: skip


class SnapshotBuilder:
    """Builds one snapshot per sampled state: contracts from the chain, the underlying from
    its stock ticks over the replay's window (read once, with the latest one before it)."""

    def __init__(self, replay: Replay) -> None:
        self.replay = replay
        contracts = replay.reader.contracts(replay.symbol)
        self._contracts = {row["contract_id"]: row for row in contracts.to_pylist()}
        self._stock = self._stock_ticks()
        times = self._stock.column("time").cast(pa.int64()).to_numpy()
        self._stock_times = times

    def _stock_ticks(self) -> pa.Table:
        r = self.replay
        uid = int_literal(r.underlying_id)
        cols = ", ".join(schemas.STOCK_TICKS.names)
        src = source_filter(r.source_id, "s")
        lo, hi = time_literal(r.start), time_literal(r.end)
        sql = (
            f"(SELECT {cols} FROM stock_data_ticks s WHERE underlying_id = {uid} "
            f"AND time < {lo} AND {src} ORDER BY time DESC LIMIT 1) UNION ALL "
            f"(SELECT {cols} FROM stock_data_ticks s WHERE underlying_id = {uid} "
            f"AND time >= {lo} AND time < {hi} AND {src} ORDER BY time)"
        )
        return r.reader.read(sql, schemas.STOCK_TICKS)

    def build(self, state: pa.RecordBatch) -> ChainSnapshot:
        """The snapshot of one state (its ``as_of`` column gives the instant)."""
        as_of: datetime = state.column("as_of")[0].as_py()
        quotes = []
        for row in state.to_pylist():
            contract = self._contracts.get(row["contract_id"])
            if contract is None or contract["expiration_date"] < _trade_date(as_of):
                continue
            quotes.append(_quote(contract, row))
        quotes.sort(key=lambda q: (q.expiration_date, q.strike_price, q.option_type))
        underlying = self._underlying(as_of)
        return ChainSnapshot(
            symbol=self.replay.symbol,
            underlying_id=self.replay.underlying_id,
            as_of=as_of,
            underlying=underlying,
            quotes=quotes,
            underlying_basis="ticks" if underlying is not None else None,
        )

    def _underlying(self, as_of: datetime) -> StockTick | None:
        at = epoch_micros(as_of)
        index = int(np.searchsorted(self._stock_times, at, side="right")) - 1
        if index < 0:
            return None
        return StockTick(**self._stock.slice(index, 1).to_pylist()[0])


def _quote(contract: dict[str, Any], tick: dict[str, Any]) -> ContractQuote:
    fields = {name: contract[name] for name in schemas.CONTRACTS.names}
    fields.update({name: tick[name] for name in _QUOTE_FROM_TICK})
    return ContractQuote(**fields, basis="ticks")


def _trade_date(at: datetime) -> date:
    return at.astimezone(_NEW_YORK).date()
