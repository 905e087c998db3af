"""What a vendor file parser yields: contracts by natural key or alias, and rows to write.

A parser turns each record of a file into a list of :data:`Event` tuples (several for one
Cboe row, none for a record that carries nothing to store) or one :class:`Rejected`. The
pipeline (:mod:`alc_data.importers.pipeline`) resolves contracts, filters, and writes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import NamedTuple

from alc_data.trading_sessions import closes_late

#: Index roots and the index they are listed on (the rest are equity/ETF roots).
INDEX_ROOTS = {
    "SPX": "SPX", "SPXW": "SPX", "SPXPM": "SPX", "XSP": "XSP", "NDX": "NDX", "NDXP": "NDX",
    "XND": "XND", "RUT": "RUT", "RUTW": "RUT", "MRUT": "MRUT", "VIX": "VIX", "VIXW": "VIX",
    "DJX": "DJX", "OEX": "OEX", "XEO": "XEO",
}  # fmt: skip
#: US equity and index options deliver 100 units unless the contract says otherwise.
STANDARD_MULTIPLIER = 100


@dataclass(frozen=True, slots=True)
class ContractKey:
    """An option contract's natural key (as ``option_chains`` holds it) and its OCC symbol."""

    underlying: str
    sec_type: str
    expiry: date
    strike: Decimal
    right: str
    trading_class: str
    multiplier: int = STANDARD_MULTIPLIER
    _hash: int = field(init=False, repr=False, compare=False, default=0)

    def __post_init__(self) -> None:
        # Keys are looked up once per imported row: hash the seven fields once.
        fields = (self.underlying, self.sec_type, self.expiry, self.strike, self.right,
                  self.trading_class, self.multiplier)  # fmt: skip
        object.__setattr__(self, "_hash", hash(fields))

    def __hash__(self) -> int:
        return self._hash

    @property
    def occ_symbol(self) -> str:
        """The 21-character OCC symbol (``SPY   241220C00600000``), as IB's localSymbol."""
        thousandths = int(self.strike * 1000)
        return f"{self.trading_class:<6}{self.expiry:%y%m%d}{self.right}{thousandths:08d}"

    @property
    def late_close(self) -> bool:
        """True when the contract trades to 16:15 New York time."""
        return closes_late(self.trading_class, self.sec_type) or closes_late(self.underlying)


def underlying_of(root: str) -> tuple[str, str]:
    """The underlying symbol and sec_type of an option root (``SPXW`` -> ``SPX``, ``IND``;
    an adjusted root such as ``SPY1`` -> ``SPY``)."""
    root = root.strip().upper()
    if root in INDEX_ROOTS:
        return INDEX_ROOTS[root], "IND"
    stripped = root.rstrip("0123456789")
    return (stripped or root), "STK"


@dataclass(frozen=True, slots=True)
class Alias:
    """A vendor's identifier of a contract (a Databento ``instrument_id``), valid on a day."""

    value: str


@dataclass(frozen=True, slots=True)
class Stock:
    """An underlying named by its symbol."""

    symbol: str
    sec_type: str = "STK"


ContractRef = ContractKey | Alias


class Definition(NamedTuple):
    """``alias`` names ``key`` from ``valid_from`` on (a definition record)."""

    alias: Alias
    key: ContractKey
    valid_from: date


class OptionTickEvent(NamedTuple):
    """A ``market_data_ticks`` row without its contract id: ``fields`` follow ``time`` in
    :class:`~alc_data.db.rows.OptionTick` order (bid_price .. tick_type)."""

    contract: ContractRef
    time: datetime
    fields: tuple[object, ...]


class OptionTradeEvent(NamedTuple):
    """A trade of an option as a tick (``last_price``, ``last_size``): fields as in
    :class:`OptionTickEvent`; written under the import's trades source."""

    contract: ContractRef
    time: datetime
    fields: tuple[object, ...]


class StockTradeEvent(NamedTuple):
    """A trade of an underlying as a stock tick (``price``; the trade's size in ``volume``)."""

    stock: Stock
    time: datetime
    fields: tuple[object, ...]


class StockTickEvent(NamedTuple):
    """A ``stock_data_ticks`` row: ``fields`` follow ``time`` in StockTick order."""

    stock: Stock
    time: datetime
    fields: tuple[object, ...]


class OptionBarEvent(NamedTuple):
    """An ``option_bars`` row: ``fields`` are open, high, low, close, volume, wap, bar_count."""

    contract: ContractRef
    what_to_show: str
    bar_size: str
    time: datetime
    fields: tuple[object, ...]


class StockBarEvent(NamedTuple):
    """A ``stock_bars`` row: ``fields`` as in :class:`OptionBarEvent`."""

    stock: Stock
    what_to_show: str
    bar_size: str
    time: datetime
    fields: tuple[object, ...]


class Rejected(NamedTuple):
    """A record that cannot be imported: ``reason`` is a short key for the summary."""

    reason: str
    message: str


Event = (
    Definition
    | OptionTickEvent
    | OptionTradeEvent
    | StockTickEvent
    | StockTradeEvent
    | OptionBarEvent
    | StockBarEvent
    | Rejected
)
