"""Historical ticks, tick-by-tick data, 5-second real-time bars and keepUpToDate history.

The streams send from the same quotes and bars as everything else (:mod:`alc_data.ib.sim.ticks`,
:mod:`alc_data.ib.sim.bars`), each time the market-data loop runs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, datetime

from alc_data.exchange_calendar import EXCHANGE_TZ
from alc_data.ib.sim.bars import compute_bar
from alc_data.ib.sim.contracts import resolve
from alc_data.ib.sim.core import Bar, HistoryError
from alc_data.ib.sim.history import format_bar_time, hours_for, parse_end
from alc_data.ib.sim.instruments import OptionSpec, UnderlyingSpec
from alc_data.ib.sim.market import MarketModel
from alc_data.ib.sim.protocol import In, Out, encode, parse_contract
from alc_data.ib.sim.session import ClientSession, Handler
from alc_data.ib.sim.ticks import HistoricalTick, contract_is_index, historical_ticks

__all__ = ["STREAM_HANDLERS", "HistoryUpdates"]

_BAR_SECONDS = 5
_RTB_WHAT = frozenset({"TRADES", "MIDPOINT", "BID", "ASK"})
_TBT_KINDS = {"LAST": 1, "ALLLAST": 2, "BIDASK": 3, "MIDPOINT": 4}
Contract = UnderlyingSpec | OptionSpec


def _one(s: ClientSession, f: list[str], at: int, req_id: int) -> Contract | None:
    matches = resolve(s.server.model, parse_contract(f, at), s.now())
    if len(matches) != 1:
        s.error(req_id, 200, "No security definition has been found for the request")
        return None
    return matches[0]


def tick_messages(req_id: int, what: str, ticks: list[HistoricalTick]) -> bytes:
    """One historicalTicks (96), historicalTicksBidAsk (97) or historicalTicksLast (98) message."""
    fields: list[object]
    if what == "BID_ASK":
        fields = [Out.HISTORICAL_TICKS_BID_ASK, req_id, len(ticks)]
        for t in ticks:
            fields += [t.time, 0, t.price, t.ask, t.size, t.ask_size]
    elif what == "TRADES":
        fields = [Out.HISTORICAL_TICKS_LAST, req_id, len(ticks)]
        for t in ticks:
            fields += [t.time, 0, t.price, t.size, "SMART", ""]
    else:
        fields = [Out.HISTORICAL_TICKS, req_id, len(ticks)]
        for t in ticks:
            fields += [t.time, "", t.price, t.size]
    return encode(*fields, 1)


def _instant(text: str, now: datetime) -> datetime | None:
    return parse_end(text, now) if text.strip() else None


def _historical_ticks(s: ClientSession, f: list[str]) -> None:
    req_id = int(f[1])
    item = _one(s, f, 2, req_id)
    if item is None:
        return
    now = s.now()
    what = f[18].upper()
    try:
        start, end = _instant(f[15], now), _instant(f[16], now)
        if start is not None and end is not None:
            raise HistoryError(321, "Error validating request: give a start or an end, not both")
        ticks = historical_ticks(
            s.server.model,
            item,
            start=start,
            end=end,
            count=int(f[17] or 0),
            what=what,
            use_rth=f[19] == "1",
        )
    except HistoryError as exc:
        s.error(req_id, exc.code, exc.message)
        return
    s.send_raw(tick_messages(req_id, what, ticks))


@dataclass
class TickByTick:
    """reqTickByTickData: every change of the quote (BidAsk, MidPoint) or every trade."""

    req_id: int
    contract: Contract
    model: MarketModel
    kind: int
    sent: tuple[float, ...] = ()

    def messages(self, now: datetime) -> list[bytes]:
        """A tick when what this stream shows has changed since the last one."""
        q = self.model.quote(self.contract.con_id, now)
        stamp = int(now.timestamp())
        if self.kind in (1, 2):
            period = self.model.trade_period_at(self.contract, now)
            trade = math.floor(now.timestamp() / period) * period
            if self.sent == (trade,):
                return []
            self.sent = (trade,)
            stamp = math.ceil(trade)  # IB's tick times are whole seconds
            row = (Out.TICK_BY_TICK, self.req_id, self.kind, stamp, q.last, q.last_size)
            return [encode(*row, 0, "SMART", "")]
        if self.kind == 3:
            if q.bid is None or q.ask is None:
                return []
            values = (q.bid, q.ask, float(q.bid_size), float(q.ask_size))
            if self.sent == values:
                return []
            self.sent = values
            return [encode(Out.TICK_BY_TICK, self.req_id, 3, stamp, *values, 0)]
        mid = q.mid if q.mid is not None else q.last
        if self.sent == (mid,):
            return []
        self.sent = (mid,)
        return [encode(Out.TICK_BY_TICK, self.req_id, 4, stamp, round(mid, 5))]


def _tick_by_tick(s: ClientSession, f: list[str]) -> None:
    req_id = int(f[1])
    item = _one(s, f, 2, req_id)
    if item is None:
        return
    kind = _TBT_KINDS.get(f[14].upper().replace("_", ""))
    if kind is None:
        s.error(req_id, 321, f"Error validating request: tick-by-tick type {f[14]!r}")
        return
    if kind == 3 and contract_is_index(item):
        s.error(req_id, 10189, "Failed to request tick-by-tick data:an index has no bid or ask")
        return
    stream = TickByTick(req_id, item, s.server.model, kind)
    count = int(f[15] or 0) if len(f) > 15 else 0
    if count > 0:
        what = {1: "TRADES", 2: "TRADES", 3: "BID_ASK", 4: "MIDPOINT"}[kind]
        past = historical_ticks(
            s.server.model, item, start=None, end=s.now(), count=count, what=what, use_rth=False
        )
        s.send_raw(tick_messages(req_id, what, past))
    s.streams[req_id] = stream
    s.send_raw(b"".join(stream.messages(s.now())))


@dataclass
class RealTimeBars:
    """reqRealTimeBars: one 5-second bar after each 5 seconds (in session when ``use_rth``)."""

    req_id: int
    contract: Contract
    model: MarketModel
    what: str
    use_rth: bool
    last: int = field(default=-1)

    def messages(self, now: datetime) -> list[bytes]:
        """The bar that ended last, once."""
        end = math.floor(now.timestamp() / _BAR_SECONDS) * _BAR_SECONDS
        start = end - _BAR_SECONDS
        if start <= self.last:
            return []
        self.last = start
        hours = hours_for(self.model, self.contract, self.use_rth)
        opened = datetime.fromtimestamp(start, UTC)
        session = hours(opened.astimezone(EXCHANGE_TZ).date())
        if self.use_rth and (session is None or not session[0] <= opened < session[1]):
            return []
        bar = _bar(self.model, self.contract, start, end, self.what)
        row = (bar.open, bar.high, bar.low, bar.close, max(bar.volume, 0.0), bar.wap, bar.bar_count)
        return [encode(Out.REAL_TIME_BARS, 3, self.req_id, int(start), *row)]


def _bar(model: MarketModel, contract: Contract, lo: float, hi: float, what: str) -> Bar:
    """The model's bar, or one with no trades (volume 0 at the midpoint) when none traded."""
    bar = compute_bar(model, contract, lo, hi, what)
    if bar is not None:
        return bar
    mid = compute_bar(model, contract, lo, hi, "MIDPOINT")
    assert mid is not None
    return Bar(mid.time, mid.open, mid.high, mid.low, mid.close, 0.0, mid.close, 0)


def _real_time_bars(s: ClientSession, f: list[str]) -> None:
    req_id = int(f[2])
    item = _one(s, f, 3, req_id)
    if item is None:
        return
    size, what, use_rth = int(f[15] or 0), f[16].upper(), f[17] == "1"
    if size != _BAR_SECONDS or what not in _RTB_WHAT:
        s.error(req_id, 321, f"Error validating request: real-time bars of {size} s {what}")
        return
    stream = RealTimeBars(req_id, item, s.server.model, what, use_rth)
    stream.last = math.floor(s.now().timestamp() / _BAR_SECONDS) * _BAR_SECONDS - _BAR_SECONDS
    s.streams[req_id] = stream


@dataclass
class HistoryUpdates:
    """keepUpToDate history: the bar in progress, re-sent as it changes, then each new one."""

    req_id: int
    contract: Contract
    model: MarketModel
    size: int
    what: str
    use_rth: bool
    format_date: int
    sent: tuple[float, ...] = ()

    def messages(self, now: datetime) -> list[bytes]:
        """The current bar when it differs from the one sent last (nothing out of session)."""
        ts = now.timestamp()
        hours = hours_for(self.model, self.contract, self.use_rth)
        session = hours(now.astimezone(EXCHANGE_TZ).date())
        if session is None or not session[0] <= now < session[1]:
            return []
        start = max(math.floor(ts / self.size) * self.size, session[0].timestamp())
        if ts <= start:
            return []
        bar = _bar(self.model, self.contract, start, ts, self.what)
        key = (start, bar.open, bar.high, bar.low, bar.close, bar.volume)
        if key == self.sent:
            return []
        self.sent = key
        when = format_bar_time(bar.time, self.size >= 86_400, self.format_date)
        row = (bar.bar_count, when, bar.open, bar.close, bar.high, bar.low, bar.wap, bar.volume)
        return [encode(Out.HISTORICAL_DATA_UPDATE, self.req_id, *row)]


def _cancel(s: ClientSession, f: list[str]) -> None:
    s.streams.pop(int(f[1] if int(f[0]) in In.VERSIONLESS else f[2]), None)


STREAM_HANDLERS: dict[int, tuple[str, Handler]] = {
    In.REQ_HISTORICAL_TICKS: ("history", _historical_ticks),
    In.REQ_TICK_BY_TICK_DATA: ("market_data", _tick_by_tick),
    In.CANCEL_TICK_BY_TICK_DATA: ("control", _cancel),
    In.REQ_REAL_TIME_BARS: ("market_data", _real_time_bars),
    In.CANCEL_REAL_TIME_BARS: ("control", _cancel),
}
