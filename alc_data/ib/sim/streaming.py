"""Market-data subscriptions: which ticks a Quote becomes, and only the ones that changed.

Tick types follow IB's table: 1/2/4 bid/ask/last price (with size), 0/3/5 sizes, 8 volume, 9 close,
27/28 call/put open interest (generic tick 101; on an underlying, the totals over its options),
29/30 call/put option volume (generic tick 100, underlyings), 24 implied volatility (106), 23
historical volatility (104), 59 dividends (456, stocks only: "past 12 months,next 12 months,next
date,next amount"), 10/11/13 bid/ask/model option computations. Delayed data (market data type
3/4) uses IB's delayed tick ids (66-76, 80-83) and is 15 minutes old.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from alc_data.ib.sim.core import Greeks, Quote
from alc_data.ib.sim.protocol import Out, encode

__all__ = ["DELAY_SECONDS", "Subscription", "greek_fields"]

DELAY_SECONDS = 15 * 60
_LIVE = {
    "bid": 1,
    "ask": 2,
    "last": 4,
    "bid_size": 0,
    "ask_size": 3,
    "last_size": 5,
    "volume": 8,
    "close": 9,
    "bid_greeks": 10,
    "ask_greeks": 11,
    "model_greeks": 13,
}
_DELAYED = {
    "bid": 66,
    "ask": 67,
    "last": 68,
    "bid_size": 69,
    "ask_size": 70,
    "last_size": 71,
    "volume": 74,
    "close": 75,
    "bid_greeks": 80,
    "ask_greeks": 81,
    "model_greeks": 83,
}
_NO_GREEKS = (-1.0, -2.0, -1.0, -1.0, -2.0, -2.0, -2.0, -1.0)


@dataclass
class Subscription:
    """One reqMktData of one client."""

    req_id: int
    con_id: int
    generic_ticks: frozenset[int]
    market_data_type: int
    is_option: bool
    right: str = ""
    greeks_interval: float = 0.0
    sent: dict[str, object] = field(default_factory=dict)
    _greeks_at: float = float("-inf")

    @property
    def delayed(self) -> bool:
        """True for delayed (type 3) and delayed-frozen (type 4) data."""
        return self.market_data_type in (3, 4)

    def messages(self, q: Quote) -> list[bytes]:
        """The ticks that differ from what this subscription last sent (all, the first time)."""
        ids = _DELAYED if self.delayed else _LIVE
        out: list[bytes] = []
        sent = self.sent
        rid = self.req_id
        for side, size_key, price, size in (
            ("bid", "bid_size", q.bid, q.bid_size),
            ("ask", "ask_size", q.ask, q.ask_size),
            ("last", "last_size", q.last, q.last_size),
        ):
            if price is None:
                continue
            if sent.get(side) != price:
                # No bid (a zero price) goes out as IB sends it: price -1 with size 0.
                wire = price if price > 0 or side == "last" else -1
                out.append(encode(Out.TICK_PRICE, 6, rid, ids[side], wire, size, 0))
                sent[side] = price
                sent[size_key] = size
            elif sent.get(size_key) != size:
                out.append(encode(Out.TICK_SIZE, 6, rid, ids[size_key], size))
                sent[size_key] = size
        if sent.get("close") != q.close:
            out.append(encode(Out.TICK_PRICE, 6, rid, ids["close"], q.close, 0, 0))
            sent["close"] = q.close
        if q.volume and sent.get("volume") != q.volume:
            out.append(encode(Out.TICK_SIZE, 6, rid, ids["volume"], q.volume))
            sent["volume"] = q.volume
        self._generic(q, out)
        if self.is_option:
            now = q.time.timestamp()
            if now - self._greeks_at >= self.greeks_interval or now < self._greeks_at:
                self._greeks_at = now
                self._greeks(q, ids, out)
        return out

    def _generic(self, q: Quote, out: list[bytes]) -> None:
        sent = self.sent
        rid = self.req_id
        if 101 in self.generic_ticks and q.open_interest is not None:
            tick = 27 if self.right == "C" else 28
            if sent.get("oi") != q.open_interest:
                out.append(encode(Out.TICK_SIZE, 6, rid, tick, q.open_interest))
                sent["oi"] = q.open_interest
        for generic, totals, ticks in (
            (100, q.option_volume, (29, 30)),
            (101, q.option_open_interest, (27, 28)),
        ):
            if generic in self.generic_ticks and totals is not None:
                for tick, value in zip(ticks, totals, strict=True):
                    if sent.get(f"tick{tick}") != value:
                        out.append(encode(Out.TICK_SIZE, 6, rid, tick, value))
                        sent[f"tick{tick}"] = value
        if 106 in self.generic_ticks:
            iv = round(q.implied_vol, 6)
            if sent.get("iv") != iv:
                out.append(encode(Out.TICK_GENERIC, 6, rid, 24, iv))
                sent["iv"] = iv
        if (
            456 in self.generic_ticks
            and q.dividends is not None
            and sent.get("dividends") != q.dividends
        ):
            out.append(encode(Out.TICK_STRING, 6, rid, 59, q.dividends))
            sent["dividends"] = q.dividends
        if 104 in self.generic_ticks and q.hist_vol is not None:
            hv = round(q.hist_vol, 6)
            if sent.get("hv") != hv:
                out.append(encode(Out.TICK_GENERIC, 6, rid, 23, hv))
                sent["hv"] = hv

    def _greeks(self, q: Quote, ids: dict[str, int], out: list[bytes]) -> None:
        for key, greeks in (
            ("model_greeks", q.greeks),
            ("bid_greeks", q.bid_greeks),
            ("ask_greeks", q.ask_greeks),
        ):
            values = greek_fields(greeks, q.und_price)
            if self.sent.get(key) != values:
                out.append(encode(Out.TICK_OPTION_COMPUTATION, self.req_id, ids[key], 0, *values))
                self.sent[key] = values


def greek_fields(g: Greeks | None, und: float) -> tuple[float, ...]:
    """An option computation's eight numbers (IB's "no value" sentinels where unknown)."""
    if g is None:
        return (*_NO_GREEKS[:-1], round(und, 4))
    return tuple(
        v if math.isfinite(v) else -2.0
        for v in (
            round(g.iv, 6),
            round(g.delta, 6),
            round(g.price, 4),
            round(g.pv_dividend, 4),
            round(g.gamma, 6),
            round(g.vega, 6),
            round(g.theta, 6),
            round(und, 4),
        )
    )
