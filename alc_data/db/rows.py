"""Typed rows of the hot path and of the read path.

Write rows (:class:`OptionTick`, :class:`StockTick`, :class:`OptionBarRow`,
:class:`StockBarRow`) are NamedTuples whose field order is the COPY column order, so the bulk
writers hand them to asyncpg unchanged. Read rows are NamedTuples too: cheap, immutable, typed.
"""

from __future__ import annotations

import warnings
from datetime import date, datetime
from decimal import Decimal
from typing import NamedTuple


class OptionTick(NamedTuple):
    """One option quote (a ``market_data_ticks`` row, without the generated columns)."""

    contract_id: int
    time: datetime
    bid_price: float | None = None
    ask_price: float | None = None
    last_price: float | None = None
    bid_size: int | None = None
    ask_size: int | None = None
    last_size: int | None = None
    volume: int | None = None
    open_interest: int | None = None
    implied_volatility: float | None = None
    delta: float | None = None
    gamma: float | None = None
    theta: float | None = None
    vega: float | None = None
    rho: float | None = None
    underlying_price: float | None = None
    tick_type: str = "REALTIME"

    @property
    def mid_price(self) -> float | None:
        """``(bid + ask) / 2`` when both sides are present (as the stored generated column)."""
        if self.bid_price is None or self.ask_price is None:
            return None
        return (self.bid_price + self.ask_price) / 2


class StockTick(NamedTuple):
    """One quote or trade of an underlying (a ``stock_data_ticks`` row)."""

    underlying_id: int
    time: datetime
    price: float | None = None
    bid_price: float | None = None
    ask_price: float | None = None
    bid_size: float | None = None
    ask_size: float | None = None
    volume: float | None = None
    vwap: float | None = None
    tick_type: str = "REALTIME"


class OptionBarRow(NamedTuple):
    """One history bar of an option as IB served it (an ``option_bars`` row)."""

    contract_id: int
    what_to_show: str
    bar_size: str
    time: datetime
    open: float | None = None
    high: float | None = None
    low: float | None = None
    close: float | None = None
    volume: float | None = None
    wap: float | None = None
    bar_count: int | None = None


class StockBarRow(NamedTuple):
    """One history bar of an underlying (a ``stock_bars`` row)."""

    underlying_id: int
    what_to_show: str
    bar_size: str
    time: datetime
    open: float | None = None
    high: float | None = None
    low: float | None = None
    close: float | None = None
    volume: float | None = None
    wap: float | None = None
    bar_count: int | None = None


class QuoteBar(NamedTuple):
    """A quote bar of an option over ``[time, time + interval)``.

    ``basis`` is ``"ticks"`` (aggregated from stored ticks) or ``"bars"`` (rolled up from
    stored BID_ASK history bars); ``source`` now means provenance (``data_sources``), so the
    old ``QuoteBar.source`` still answers the basis, with a ``DeprecationWarning``. For
    ``"bars"``, IB's BID_ASK bar gives the time-average bid and ask: ``bid``/``ask`` are
    those averages, ``open``..``close`` are built from their midpoint per stored bar, and
    ``tick_count`` is None.
    """

    time: datetime
    open: float | None
    high: float | None
    low: float | None
    close: float | None
    bid: float | None
    ask: float | None
    spread_avg: float | None
    volume: float | None
    tick_count: int | None
    basis: str

    @property
    def source(self) -> str:
        """Deprecated spelling of :attr:`basis`."""
        warnings.warn(
            "QuoteBar.source is now QuoteBar.basis (source means provenance)",
            DeprecationWarning,
            stacklevel=2,
        )
        return self.basis


class ContractQuote(NamedTuple):
    """One contract of a chain snapshot with its latest quote at or before ``as_of``."""

    contract_id: int
    expiration_date: date
    strike_price: Decimal
    option_type: str
    multiplier: int
    trading_class: str
    contract_symbol: str | None
    ib_con_id: int | None
    time: datetime | None
    bid_price: float | None
    ask_price: float | None
    last_price: float | None
    bid_size: int | None
    ask_size: int | None
    volume: int | None
    open_interest: int | None
    implied_volatility: float | None
    delta: float | None
    gamma: float | None
    theta: float | None
    vega: float | None
    underlying_price: float | None
    #: What the quote was read from: ``"ticks"``, ``"bars"`` (a stored history bar), or None
    #: for a contract without a quote.
    basis: str | None = None
    #: For ``basis == "bars"``: the bar series (``BID_ASK``, else ``MIDPOINT``) and its size.
    #: A BID_ASK bar gives the time-average bid (its open) and ask (its close); a MIDPOINT
    #: bar gives only a midpoint. ``time`` is then the bar's end, when it was known.
    what_to_show: str | None = None
    bar_size: str | None = None
    #: The midpoint a MIDPOINT bar gives (None otherwise; see :attr:`mid_price`).
    midpoint: float | None = None

    @property
    def mid_price(self) -> float | None:
        """``(bid + ask) / 2`` when both sides are present, else a MIDPOINT bar's midpoint."""
        if self.bid_price is None or self.ask_price is None:
            return self.midpoint
        return (self.bid_price + self.ask_price) / 2


class ChainSnapshot(NamedTuple):
    """Every contract of a chain (one or all expiries) as it was quoted at ``as_of``."""

    symbol: str
    underlying_id: int
    as_of: datetime
    underlying: StockTick | None
    quotes: list[ContractQuote]
    #: What the underlying's price was read from: ``"ticks"``, ``"bars"`` or None.
    underlying_basis: str | None = None
