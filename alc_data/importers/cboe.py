"""Cboe DataShop Option EOD Summary files (CSV, or a zip holding one).

One row per contract per day becomes:

- a snapshot at 15:45 New York (``*_1545`` columns: quote, greeks and implied volatility when
  the file has them, the underlying's price: ``active_underlying_price_1545``, else the mid of
  ``underlying_bid/ask_1545``), ``tick_type`` SNAPSHOT;
- a snapshot at the close, 16:00 (16:15 for products that trade to 16:15; 15 minutes before
  and at the early close on early-close days): the ``*_eod`` quote, the day's
  ``trade_volume`` as ``volume``, ``open_interest``, ``close`` as ``last_price`` when there
  were trades;
- a daily TRADES bar at the session open (as IB's daily bars) from ``open``..``close``,
  ``trade_volume`` and ``vwap``, when the contract traded (Cboe writes zeros otherwise);
- the underlying's bid/ask at both instants as stock ticks (once per underlying and day).

Index underlyings are written ``^SPX`` by Cboe: they become ``SPX`` with ``sec_type`` IND.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import BinaryIO
from zoneinfo import ZoneInfo

from alc_data.exchange_calendar import option_session
from alc_data.importers.records import (
    ContractKey,
    Event,
    OptionBarEvent,
    OptionTickEvent,
    Rejected,
    Stock,
    StockTickEvent,
)
from alc_data.importers.textfiles import csv_rows, opt_float, opt_int

NEW_YORK = ZoneInfo("America/New_York")
_REQUIRED = frozenset(
    {
        "underlying_symbol", "quote_date", "root", "expiration", "strike", "option_type",
        "open", "high", "low", "close", "trade_volume", "bid_size_1545", "bid_1545",
        "ask_size_1545", "ask_1545", "underlying_bid_1545", "underlying_ask_1545",
        "bid_size_eod", "bid_eod", "ask_size_eod", "ask_eod", "underlying_bid_eod",
        "underlying_ask_eod", "open_interest",
    }
)  # fmt: skip
_GREEKS = ("delta_1545", "gamma_1545", "theta_1545", "vega_1545", "rho_1545")
_SNAPSHOT_LEAD = timedelta(minutes=15)


def _mid(bid: float | None, ask: float | None) -> float | None:
    if bid is None or ask is None or bid <= 0 or ask <= 0:
        return None
    return (bid + ask) / 2


def snapshot_times(day: date, late_close: bool) -> tuple[datetime, datetime, datetime]:
    """(session open, the 15:45 snapshot, the close snapshot) of ``day`` in UTC."""
    hours = option_session(day, late_close=late_close)
    if hours is None:  # a day our calendar has closed: Cboe's clock times as they are
        closes = time(16, 15) if late_close else time(16, 0)
        close = datetime.combine(day, closes, NEW_YORK)
        opened = datetime.combine(day, time(9, 30), NEW_YORK)
        hours = (opened, close)
    opened, close = hours
    regular_close = close - (_SNAPSHOT_LEAD if late_close else timedelta(0))
    return opened, regular_close - _SNAPSHOT_LEAD, close


class CboeEodParser:
    """Reads Cboe DataShop Option EOD Summary files (``alc-data import cboe-eod``)."""

    format_name = "cboe-eod"

    def __init__(self) -> None:
        self._underlying_done: set[tuple[str, date]] = set()

    def records(self, raw: BinaryIO, path: Path) -> Iterator[list[Event]]:
        """Each row as its snapshots, bar and underlying quotes (see the module doc)."""
        header, rows = csv_rows(raw, path, _REQUIRED)
        ix = {name: i for i, name in enumerate(header)}
        width = len(header)
        for row in rows:
            if len(row) != width:
                yield [Rejected("bad_record", f"{len(row)} fields, the header has {width}")]
                continue
            try:
                yield self._row(row, ix)
            except (ValueError, InvalidOperation, ArithmeticError) as exc:
                yield [Rejected("bad_value", str(exc))]

    def _row(self, row: list[str], ix: dict[str, int]) -> list[Event]:
        def get(name: str) -> str:
            at = ix.get(name)
            return row[at].strip() if at is not None else ""

        def num(name: str) -> float | None:
            return opt_float(get(name))

        symbol = get("underlying_symbol").upper()
        sec_type = "IND" if symbol.startswith("^") else "STK"
        symbol = symbol.lstrip("^")
        right = get("option_type").upper()[:1]
        if right not in ("C", "P"):
            return [Rejected("bad_value", f"option_type {get('option_type')!r}")]
        strike = Decimal(get("strike")).quantize(Decimal("0.0001"))
        if strike <= 0:
            return [Rejected("bad_value", f"strike {strike}")]
        day = date.fromisoformat(get("quote_date"))
        key = ContractKey(symbol, sec_type, date.fromisoformat(get("expiration")), strike,
                          right, get("root").upper() or symbol)  # fmt: skip
        opened, at_1545, at_close = snapshot_times(day, key.late_close)
        volume = opt_int(get("trade_volume"))
        underlying_1545 = num("active_underlying_price_1545") or _mid(
            num("underlying_bid_1545"), num("underlying_ask_1545")
        )
        greeks = tuple(num(g) for g in _GREEKS)
        events: list[Event] = [
            OptionTickEvent(key, at_1545, (
                num("bid_1545"), num("ask_1545"), None, opt_int(get("bid_size_1545")),
                opt_int(get("ask_size_1545")), None, None, None,
                num("implied_volatility_1545"), *greeks, underlying_1545, "SNAPSHOT",
            )),
            OptionTickEvent(key, at_close, (
                num("bid_eod"), num("ask_eod"), num("close") if volume else None,
                opt_int(get("bid_size_eod")), opt_int(get("ask_size_eod")), None, volume,
                opt_int(get("open_interest")), None, None, None, None, None, None,
                _mid(num("underlying_bid_eod"), num("underlying_ask_eod")), "SNAPSHOT",
            )),
        ]  # fmt: skip
        if volume:
            bar = (num("open"), num("high"), num("low"), num("close"), float(volume),
                   num("vwap"), None)  # fmt: skip
            events.append(OptionBarEvent(key, "TRADES", "1 day", opened, bar))
        if (symbol, day) not in self._underlying_done:
            self._underlying_done.add((symbol, day))
            stock = Stock(symbol, sec_type)
            for at, suffix in ((at_1545, "1545"), (at_close, "eod")):
                bid, ask = num(f"underlying_bid_{suffix}"), num(f"underlying_ask_{suffix}")
                if bid is not None or ask is not None:
                    fields = (None, bid, ask, None, None, None, None, "SNAPSHOT")
                    events.append(StockTickEvent(stock, at, fields))
        return events
