"""Sampling: every collection interval, one row per contract whose state *changed*.

Definition of "changed". At a sampling instant a contract (option or underlying) is changed
when both hold:

1. ib_async reported at least one tick for it since the previous sampling instant (its
   ``Ticker`` was in a ``pendingTickersEvent``), and
2. the row it would produce now, *without its time*, differs from the last row emitted for
   it: at least one stored field has a different value after IB's sentinels became NULL
   (options: bid, ask, last, bid/ask/last size, volume, open interest, IV, delta, gamma,
   theta, vega, underlying price, tick type; underlyings: last, bid, ask, sizes, volume,
   VWAP, tick type).

So a tick that repeats a value, or that moves only a field that is not stored (the close,
bid/ask greeks, historical volatility) produces no row; several changes within one interval
produce one row holding the latest state (sampling, not tick-by-tick). A contract that gets
a line again (rotation, reconnect) starts afresh: its first complete state is stored even if
it equals the last row, so that its coverage shows. During the first ``settle`` seconds after
a subscription the contract is not sampled, so that a row never mixes the previous
subscription's values with the new one's first ticks.

The row's ``time`` is when ib_async received the contract's latest update (``Ticker.time``,
UTC), made strictly increasing per contract (+1 microsecond when needed) so that the key
``(contract_id, time)`` is unique.

A contract whose state cannot be turned into a row (a naive time, an attribute ib_async no
longer has) is skipped for that instant, counted in :attr:`Sampler.errors` by kind and logged
once per kind; the other contracts are sampled as usual.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from alc_data.db.rows import OptionTick, StockTick
from alc_data.ib.parse import option_tick, stock_tick, utc

__all__ = ["Instrument", "Sampler"]

log = logging.getLogger(__name__)

_MICRO = timedelta(microseconds=1)


@dataclass(frozen=True)
class Instrument:
    """A contract the collector streams: its IB conId, database id and symbol."""

    con_id: int
    db_id: int
    symbol: str
    is_option: bool
    contract: Any  # the qualified ib_async Contract


class Sampler:
    """Turns changed tickers into rows (see the module doc)."""

    def __init__(
        self,
        *,
        include_greeks: bool = True,
        settle: float = 0.25,
        on_row: Callable[[int, datetime], None] | None = None,
    ) -> None:
        self.include_greeks = include_greeks
        self.on_row = on_row
        self.settle = settle
        self.instruments: dict[int, Instrument] = {}
        self.tickers: dict[int, Any] = {}
        self.rows_by_symbol: dict[str, dict[str, int]] = {}
        #: The market-data types IB reported for the rows made (message 58, per ticker).
        self.market_data_types: set[int] = set()
        self._dirty: set[int] = set()
        self._last: dict[int, tuple[Any, ...]] = {}
        self._last_time: dict[int, datetime] = {}
        self._settle_until: dict[int, float] = {}
        self.errors: dict[str, int] = {}
        self.last_error: str | None = None

    # inputs -----------------------------------------------------------------------------

    def on_updates(self, con_ids: Iterable[int]) -> None:
        """The gateway's update handler: remember which contracts ticked."""
        self._dirty.update(con_ids)

    def attach(self, con_id: int, ticker: Any, now: float) -> None:
        """``con_id`` was (re)subscribed and streams into ``ticker``."""
        self.tickers[con_id] = ticker
        self._last.pop(con_id, None)
        self._settle_until[con_id] = now + self.settle

    def detach(self, con_id: int) -> None:
        """``con_id`` lost its line; ticks still queued for it are ignored."""
        self.tickers.pop(con_id, None)
        self._dirty.discard(con_id)

    def detach_all(self) -> None:
        """Every line is gone (disconnect)."""
        self.tickers.clear()
        self._dirty.clear()

    # sampling ---------------------------------------------------------------------------

    def sample(self, now: float) -> tuple[list[OptionTick], list[StockTick]]:
        """The rows of the contracts changed since the last call (monotonic time ``now``)."""
        options: list[OptionTick] = []
        stocks: list[StockTick] = []
        dirty, self._dirty = self._dirty, set()
        wall = datetime.now(UTC)
        for con_id in dirty:
            ticker = self.tickers.get(con_id)
            inst = self.instruments.get(con_id)
            if ticker is None or inst is None:
                continue
            if self._settle_until.get(con_id, 0.0) > now:
                self._dirty.add(con_id)  # look again once settled
                continue
            try:
                row = self._row(inst, ticker, wall)
            except Exception as exc:
                self._failed(inst, exc)
                continue
            if row is not None:
                (options if inst.is_option else stocks).append(row)  # type: ignore[arg-type]
        return options, stocks

    def _failed(self, inst: Instrument, exc: Exception) -> None:
        kind = f"sample:{type(exc).__name__}"
        self.errors[kind] = self.errors.get(kind, 0) + 1
        self.last_error = f"sampling {inst.symbol} conId {inst.con_id}: {type(exc).__name__}: {exc}"
        if self.errors[kind] == 1:
            log.error("%s (the contract is skipped at this instant; logged once per kind)",
                      self.last_error, exc_info=exc)  # fmt: skip

    def _row(self, inst: Instrument, ticker: Any, wall: datetime) -> OptionTick | StockTick | None:
        at = utc(ticker.time, wall)
        self.market_data_types.add(ticker.marketDataType)
        row: OptionTick | StockTick
        if inst.is_option:
            row = option_tick(ticker, inst.db_id, at, include_greeks=self.include_greeks)
        else:
            row = stock_tick(ticker, inst.db_id, at)
        values = row[2:]
        if all(v is None for v in values[:-1]):
            return None  # nothing stored yet (only the close, say)
        con_id = inst.con_id
        if self._last.get(con_id) == values:
            return None
        last_time = self._last_time.get(con_id)
        if last_time is not None and at <= last_time:
            at = last_time + _MICRO
            row = row._replace(time=at)
        self._last[con_id] = values
        self._last_time[con_id] = at
        counts = self.rows_by_symbol.setdefault(inst.symbol, {"ticks": 0, "stock_ticks": 0})
        counts["ticks" if inst.is_option else "stock_ticks"] += 1
        if self.on_row is not None:
            self.on_row(con_id, at)
        return row
