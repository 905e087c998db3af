"""Databento DBN files (``.dbn``, ``.dbn.zst``), decoded with Databento's ``databento-dbn``.

Schemas and where they go:

- ``definition`` (OPRA): contracts by natural key from the OCC raw symbol (root = trading
  class, expiry, right, strike); multiplier from ``unit_of_measure_qty`` or
  ``contract_multiplier``, and when both are undefined the product's standard terms (US
  equity and index options: 100); ``instrument_id`` kept as an alias valid from the record's
  day. The metadata's symbology mappings (raw symbol -> instrument id per date range) and
  ``SymbolMappingMsg`` records are used the same way.
- ``cbbo-1s``/``cbbo-1m``/``bbo-1s``/``bbo-1m``/``cmbp-1``/``tcbbo``/``mbp-1``/``tbbo``:
  quotes into option ticks (stock ticks on equities datasets) at ``ts_recv``: the top
  (consolidated on OPRA) bid and ask with sizes; the record's trade price and size
  (``price``/``size``, defined on trade records and the last trade of a cbbo interval) as
  ``last_price``/``last_size``, the way IB's ticks carry them.
- ``trades``: trades as ticks under the trades source (see :mod:`.pipeline`).
- ``ohlcv-1s/1m/1h/1d``: TRADES bars starting at ``ts_event``.
- ``statistics``: open interest as a SNAPSHOT tick holding only ``open_interest``. Settlement
  prices are not stored (no column means "settlement"; see the issue report).

DBN's sentinels become NULL: undefined prices (``INT64_MAX``), sizes (``UINT32_MAX``),
quantities (``INT64_MAX``/``INT32_MAX``); a record whose timestamps are undefined
(``UINT64_MAX``) is rejected. Prices are fixed-point with a 1e-9 scale; timestamps are
nanoseconds since the epoch (UTC) and are stored truncated to the microsecond (rows of an
instrument in the same microsecond are collapsed, see :mod:`.pipeline`).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any, BinaryIO

import databento_dbn as dbn
import zstandard

from alc_data.errors import ImportFormatError
from alc_data.importers.occ import parse_occ
from alc_data.importers.records import (
    Alias,
    ContractKey,
    Definition,
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
from alc_data.importers.textfiles import nanos_to_time

UNDEF_PRICE = dbn.UNDEF_PRICE
UNDEF_SIZE = dbn.UNDEF_ORDER_SIZE
UNDEF_QUANTITY = dbn.UNDEF_STAT_QUANTITY
UNDEF_TIMESTAMP = dbn.UNDEF_TIMESTAMP
UNDEF_INT32 = 2**31 - 1
#: DBN prices are integers in units of 1e-9 (divided: the float nearest the exact value).
SCALE = 1_000_000_000
_CHUNK = 1 << 20
_ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
_BAR_SIZES = {
    dbn.RType.OHLCV_1S: "1 secs",
    dbn.RType.OHLCV_1M: "1 min",
    dbn.RType.OHLCV_1H: "1 hour",
    dbn.RType.OHLCV_1D: "1 day",
    dbn.RType.OHLCV_EOD: "1 day",
}
_QUOTES = (dbn.CBBOMsg, dbn.BBOMsg, dbn.CMBP1Msg, dbn.MBP1Msg)


def price(value: int) -> float | None:
    """A DBN fixed-point price as a float; None for the undefined sentinel."""
    return None if value == UNDEF_PRICE else value / SCALE


def size(value: int) -> int | None:
    """A DBN size; None for the undefined sentinel."""
    return None if value == UNDEF_SIZE else value


def decoded(raw: BinaryIO) -> Iterator[Any]:
    """The metadata, then every record of a DBN stream (zstd-compressed or not)."""
    head = raw.read(4)
    raw.seek(0)
    stream: Any = raw
    if head == _ZSTD_MAGIC:
        stream = zstandard.ZstdDecompressor().stream_reader(raw, read_across_frames=True)
    elif head[:3] != b"DBN":
        raise ImportFormatError("not a DBN file (no DBN or zstd signature)")
    decoder = dbn.DBNDecoder()
    while piece := stream.read(_CHUNK):
        decoder.write(piece)
        yield from decoder.decode()
    yield from decoder.decode()


def _multiplier(record: Any) -> int:
    quantity = record.unit_of_measure_qty
    if quantity not in (UNDEF_PRICE, 0) and quantity % 1_000_000_000 == 0:
        return int(quantity // 1_000_000_000)
    if record.contract_multiplier not in (UNDEF_INT32, 0):
        return int(record.contract_multiplier)
    return 100


class DatabentoParser:
    """Reads DBN files (``alc-data import databento``)."""

    format_name = "databento"

    def __init__(self) -> None:
        self.options = True
        self._stocks: dict[int, Stock] = {}
        self._aliases: dict[int, Alias] = {}

    def records(self, raw: BinaryIO, path: Path) -> Iterator[list[Event]]:
        """Each DBN record as events (see the module doc)."""
        records = decoded(raw)
        metadata = next(records, None)
        if not isinstance(metadata, dbn.Metadata):
            raise ImportFormatError(f"{path}: a DBN stream without metadata")
        self.options = (metadata.dataset or "").upper().startswith("OPRA")
        self._stocks.clear()
        # The symbology comes before the first record's events (it is not a record itself).
        mapped = self._mappings(metadata)
        for record in records:
            try:
                events = self._record(record)
            except (ValueError, OverflowError) as exc:
                events = [Rejected("bad_value", str(exc))]
            if mapped:
                events, mapped = mapped + events, []
            yield events

    def _alias(self, instrument_id: int) -> Alias:
        found = self._aliases.get(instrument_id)
        if found is None:
            found = self._aliases[instrument_id] = Alias(str(instrument_id))
        return found

    def _mappings(self, metadata: Any) -> list[Event]:
        events: list[Event] = []
        for raw_symbol, intervals in (metadata.mappings or {}).items():
            for interval in intervals:
                if not str(interval["symbol"]).isdigit():
                    continue
                events.extend(self._mapping(raw_symbol, int(interval["symbol"]),
                                            interval["start_date"]))  # fmt: skip
        return events

    def _mapping(self, raw_symbol: str, instrument_id: int, valid_from: date) -> list[Event]:
        if not self.options:
            self._stocks[instrument_id] = Stock(raw_symbol.strip())
            return []
        key = parse_occ(raw_symbol)
        if isinstance(key, Rejected):
            return []  # a symbology entry that is not an option: nothing to map
        return [Definition(self._alias(instrument_id), key, valid_from)]

    def _record(self, record: Any) -> list[Event]:
        if isinstance(record, _QUOTES):
            return self._quote(record)
        if isinstance(record, dbn.TradeMsg):
            return self._trade(record)
        if isinstance(record, dbn.OHLCVMsg):
            return self._bar(record)
        if isinstance(
            record, dbn.InstrumentDefMsg | dbn.InstrumentDefMsgV1 | dbn.InstrumentDefMsgV2
        ):
            return self._definition(record)
        if isinstance(record, dbn.StatMsg | dbn.StatMsgV1):
            return self._statistic(record)
        if isinstance(record, dbn.SymbolMappingMsg | dbn.SymbolMappingMsgV1):
            at = record.ts_event
            day = nanos_to_time(at).date() if at != UNDEF_TIMESTAMP else date(1970, 1, 1)
            return self._mapping(record.stype_in_symbol, record.instrument_id, day)
        return []  # system, error and status records carry no market data

    def _time(self, record: Any) -> Any:
        at = record.ts_recv
        if at == UNDEF_TIMESTAMP:
            at = record.ts_event
        if at == UNDEF_TIMESTAMP:
            return None
        return nanos_to_time(at)

    def _quote(self, record: Any) -> list[Event]:
        at = self._time(record)
        if at is None:
            return [Rejected("no_timestamp", "ts_recv and ts_event are undefined")]
        level = record.levels[0]
        bid, ask = price(level.bid_px), price(level.ask_px)
        bid_size = size(level.bid_sz) if bid is not None else None
        ask_size = size(level.ask_sz) if ask is not None else None
        last = price(record.price)
        last_size = size(record.size) if last is not None else None
        instrument = record.instrument_id
        if self.options:
            fields = (bid, ask, last, bid_size, ask_size, last_size)
            return [OptionTickEvent(self._alias(instrument), at, fields)]
        stock = self._stocks.get(instrument)
        if stock is None:
            return [Rejected("unknown_instrument", f"no symbol for instrument {instrument}")]
        return [StockTickEvent(stock, at, (last, bid, ask, bid_size, ask_size))]

    def _trade(self, record: Any) -> list[Event]:
        at = self._time(record)
        if at is None:
            return [Rejected("no_timestamp", "ts_recv and ts_event are undefined")]
        last, last_size = price(record.price), size(record.size)
        if self.options:
            fields = (None, None, last, None, None, last_size)
            return [OptionTradeEvent(self._alias(record.instrument_id), at, fields)]
        stock = self._stocks.get(record.instrument_id)
        if stock is None:
            return [Rejected("unknown_instrument", f"no symbol for {record.instrument_id}")]
        volume = float(last_size) if last_size is not None else None
        return [StockTradeEvent(stock, at, (last, None, None, None, None, volume))]

    def _bar(self, record: Any) -> list[Event]:
        if record.ts_event == UNDEF_TIMESTAMP:
            return [Rejected("no_timestamp", "ts_event is undefined")]
        bar_size = _BAR_SIZES.get(record.rtype)
        if bar_size is None:
            return [Rejected("unknown_schema", f"OHLCV record of rtype {record.rtype}")]
        at = nanos_to_time(record.ts_event)
        volume = None if record.volume == UNDEF_QUANTITY else float(record.volume)
        fields = (price(record.open), price(record.high), price(record.low),
                  price(record.close), volume, None, None)  # fmt: skip
        if self.options:
            return [OptionBarEvent(self._alias(record.instrument_id), "TRADES", bar_size, at,
                                   fields)]  # fmt: skip
        stock = self._stocks.get(record.instrument_id)
        if stock is None:
            return [Rejected("unknown_instrument", f"no symbol for {record.instrument_id}")]
        return [StockBarEvent(stock, "TRADES", bar_size, at, fields)]

    def _definition(self, record: Any) -> list[Event]:
        raw_symbol = record.raw_symbol
        if str(record.instrument_class) not in ("C", "P"):
            self._stocks[record.instrument_id] = Stock(raw_symbol.strip())
            return []
        key = parse_occ(raw_symbol, _multiplier(record))
        if isinstance(key, Rejected):
            return [key]
        at = self._time(record)
        day = at.date() if at is not None else key.expiry
        return [Definition(self._alias(record.instrument_id), key, day)]

    def _statistic(self, record: Any) -> list[Event]:
        if record.stat_type != dbn.StatType.OPEN_INTEREST or not self.options:
            return []
        at = self._time(record)
        if at is None:
            return [Rejected("no_timestamp", "ts_recv and ts_event are undefined")]
        quantity = record.quantity
        if quantity in (UNDEF_QUANTITY, UNDEF_INT32):
            return []
        fields = (None, None, None, None, None, None, None, int(quantity), None, None, None,
                  None, None, None, None, "SNAPSHOT")  # fmt: skip
        return [OptionTickEvent(self._alias(record.instrument_id), at, fields)]


__all__ = ["ContractKey", "DatabentoParser", "decoded", "price", "size"]
