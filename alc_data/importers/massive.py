"""Massive (formerly Polygon) flat files: gzip CSV, one file per day and data type.

- ``quotes`` (options: ``ticker,ask_exchange,ask_price,ask_size,bid_exchange,bid_price,
  bid_size,sequence_number,sip_timestamp``; stocks add ``conditions,indicators,
  participant_timestamp,tape,trf_timestamp``): option ticks / stock ticks at ``sip_timestamp``.
- ``trades`` (``ticker,conditions,correction,exchange,participant_timestamp,price,
  sip_timestamp,size``): ticks with ``last_price``/``last_size`` (stocks: ``price`` and the
  trade's size in ``volume``) written under the trades source (see :mod:`.pipeline`).
- ``minute_aggs`` / ``day_aggs`` (``ticker,volume,open,close,high,low,window_start,
  transactions``): TRADES bars of ``1 min`` / ``1 day`` starting at ``window_start``.

Option tickers are OCC symbols with an ``O:`` prefix; timestamps are nanoseconds (UTC).
The data type is told by the header, options from stocks by the ticker.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import BinaryIO

from alc_data.errors import ImportFormatError
from alc_data.importers.occ import parse_occ
from alc_data.importers.records import (
    ContractKey,
    Event,
    OptionBarEvent,
    OptionTickEvent,
    OptionTradeEvent,
    Rejected,
    Stock,
    StockBarEvent,
    StockTickEvent,
    StockTradeEvent,
)
from alc_data.importers.textfiles import EPOCH, csv_rows, nanos_to_time, opt_float, opt_int

_QUOTES = frozenset({"ticker", "ask_price", "ask_size", "bid_price", "bid_size", "sip_timestamp"})
_TRADES = frozenset({"ticker", "price", "size", "sip_timestamp"})
_AGGS = frozenset({"ticker", "volume", "open", "close", "high", "low", "window_start"})
_DAY_NANOS = 86_400 * 10**9


class MassiveParser:
    """Reads Massive flat files (``alc-data import massive``)."""

    format_name = "massive"

    def __init__(self) -> None:
        self._contracts: dict[str, ContractKey | Rejected] = {}
        self._stocks: dict[str, Stock] = {}

    def _contract(self, ticker: str) -> ContractKey | Rejected:
        found = self._contracts.get(ticker)
        if found is None:
            found = self._contracts[ticker] = parse_occ(ticker)
        return found

    def _stock(self, ticker: str) -> Stock:
        found = self._stocks.get(ticker)
        if found is None:
            found = self._stocks[ticker] = Stock(ticker)
        return found

    def records(self, raw: BinaryIO, path: Path) -> Iterator[list[Event]]:
        """Each CSV row as events (see the module doc)."""
        header, rows = csv_rows(raw, path, frozenset({"ticker"}))
        columns = set(header)
        if columns >= _QUOTES:
            convert = self._quote_reader({name: i for i, name in enumerate(header)})
        elif columns >= _TRADES:
            convert = self._trade
        elif columns >= _AGGS:
            convert = self._agg
            self.day_file = "day" in path.name.lower() or "day_aggs" in str(path).lower()
        else:
            raise ImportFormatError(f"{path}: not a Massive quotes, trades or aggs file")
        index = {name: i for i, name in enumerate(header)}
        width = len(header)
        for row in rows:
            if len(row) != width:
                yield [Rejected("bad_record", f"{len(row)} fields, the header has {width}")]
                continue
            try:
                yield convert(row, index)
            except (ValueError, OverflowError) as exc:
                yield [Rejected("bad_value", str(exc))]

    def _quote_reader(
        self, ix: dict[str, int]
    ) -> Callable[[list[str], dict[str, int]], list[Event]]:
        """The quote converter with the columns' positions bound (the hot path)."""
        t, sip, bp, ap = ix["ticker"], ix["sip_timestamp"], ix["bid_price"], ix["ask_price"]
        bs, az = ix["bid_size"], ix["ask_size"]
        contracts = self._contracts
        stock = self._stock

        def convert(row: list[str], _: dict[str, int]) -> list[Event]:
            ticker = row[t]
            at = EPOCH + timedelta(microseconds=int(row[sip]) // 1000)
            bid_text, ask_text, bid_size, ask_size = row[bp], row[ap], row[bs], row[az]
            bid = float(bid_text) if bid_text else None
            ask = float(ask_text) if ask_text else None
            sizes = (opt_int(bid_size), opt_int(ask_size))
            if ticker.startswith("O:"):
                key = contracts.get(ticker) or self._contract(ticker)
                if isinstance(key, Rejected):
                    return [key]
                return [OptionTickEvent(key, at, (bid, ask, None, *sizes))]
            return [StockTickEvent(stock(ticker), at, (None, bid, ask, *sizes))]

        return convert

    def _trade(self, row: list[str], ix: dict[str, int]) -> list[Event]:
        ticker = row[ix["ticker"]]
        at = nanos_to_time(int(row[ix["sip_timestamp"]]))
        price, size = opt_float(row[ix["price"]]), opt_int(row[ix["size"]])
        if ticker.startswith("O:"):
            key = self._contract(ticker)
            if isinstance(key, Rejected):
                return [key]
            return [OptionTradeEvent(key, at, (None, None, price, None, None, size))]
        stock_fields = (price, None, None, None, None, float(size) if size is not None else None)
        return [StockTradeEvent(self._stock(ticker), at, stock_fields)]

    def _agg(self, row: list[str], ix: dict[str, int]) -> list[Event]:
        ticker = row[ix["ticker"]]
        start = int(row[ix["window_start"]])
        fields = (
            opt_float(row[ix["open"]]),
            opt_float(row[ix["high"]]),
            opt_float(row[ix["low"]]),
            opt_float(row[ix["close"]]),
            opt_float(row[ix["volume"]]),
            None,
            opt_int(row[ix["transactions"]]) if "transactions" in ix else None,
        )
        # Told by the file's name (day_aggs_v1/...): both kinds have the same columns.
        bar_size = "1 day" if self.day_file else "1 min"
        at = nanos_to_time(start)
        if ticker.startswith("O:"):
            key = self._contract(ticker)
            if isinstance(key, Rejected):
                return [key]
            return [OptionBarEvent(key, "TRADES", bar_size, at, fields)]
        return [StockBarEvent(self._stock(ticker), "TRADES", bar_size, at, fields)]

    day_file = False
