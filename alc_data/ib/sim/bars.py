"""One history bar of the model: OHLC per ``whatToShow`` for an underlying or an option."""

from __future__ import annotations

import math
from datetime import UTC, datetime

from alc_data.ib.sim.core import Bar, day_index, mix
from alc_data.ib.sim.instruments import OptionSpec, UnderlyingSpec
from alc_data.ib.sim.model import QuoteModel

__all__ = ["compute_bar"]


def _ohlc(values: list[float]) -> tuple[float, float, float, float]:
    """Open, high, low, close of values sampled at (open, high point, low point, close)."""
    return values[0], max(values), min(values), values[-1]


def compute_bar(
    model: QuoteModel, contract: UnderlyingSpec | OptionSpec, lo: float, hi: float, what: str
) -> Bar | None:
    """The bar over [lo, hi) (epoch seconds), or None when it has no data (no trades)."""
    start = datetime.fromtimestamp(lo, UTC)
    spec = contract if isinstance(contract, UnderlyingSpec) else contract.underlying
    path = model.path(spec.symbol)
    o, h, low, c, h_t, low_t = path.ohlc(lo, hi)
    day = day_index(start)
    if isinstance(contract, UnderlyingSpec):
        if what in {"OPTION_IMPLIED_VOLATILITY", "HISTORICAL_VOLATILITY"}:
            fn = path.atm_vol if what == "OPTION_IMPLIED_VOLATILITY" else path.realized_vol
            end_day = day_index(datetime.fromtimestamp(hi - 1e-6, UTC))
            a, b = round(fn(day), 6), round(fn(end_day), 6)
            return Bar(start, a, max(a, b), min(a, b), b, -1.0, -1.0, -1)
        prices = [round(v, 2) for v in (o, h, low, c)]
        spread = 0.0 if contract.is_index else 0.01
        bids = [math.floor(v * 100.0 + 1e-9) / 100.0 for v in (o, h, low, c)]
        asks = [round(b + spread, 2) for b in bids]
        lot = 0 if contract.is_index else 100
        return _finish(model, contract.con_id, start, lo, hi, what, prices, bids, asks, 1.0, lot)
    # Option prices at the underlying's open, high, low and close, valued with the time to
    # expiry at the bar's start (so OHLC is consistent: low <= open, close <= high).
    minute = math.floor(lo / 60.0) * 60.0
    spots = [model.spot(spec, ts) for ts in (lo, h_t, low_t, hi)]
    markets = [model.option_market(contract, s, minute) for s in spots]
    bids = [m.bid for m in markets]
    asks = [m.ask for m in markets]
    mids = [round((m.bid + m.ask) / 2.0, 3) for m in markets]
    period = model.trade_period(contract, markets[0].z)
    size = 3 + mix(model.seed, contract.con_id, day) % 5
    return _finish(model, contract.con_id, start, lo, hi, what, mids, bids, asks, period, size)


def _finish(
    model: QuoteModel,
    con_id: int,
    start: datetime,
    lo: float,
    hi: float,
    what: str,
    mids: list[float],
    bids: list[float],
    asks: list[float],
    period: float,
    lot: int,
) -> Bar | None:
    if what == "MIDPOINT":
        return Bar(start, *_ohlc(mids), -1.0, -1.0, -1)
    if what == "BID":
        return Bar(start, *_ohlc(bids), -1.0, -1.0, -1)
    if what == "ASK":
        return Bar(start, *_ohlc(asks), -1.0, -1.0, -1)
    if what == "BID_ASK":
        avg_bid = round(sum(bids) / len(bids), 4)
        avg_ask = round(sum(asks) / len(asks), 4)
        return Bar(start, avg_bid, max(asks), min(bids), avg_ask, -1.0, -1.0, -1)
    trades = math.ceil(hi / period - 1e-9) - math.ceil(lo / period - 1e-9)
    if trades <= 0:
        return None
    o, h, low, c = _ohlc(mids)
    o, h, low, c = (round(v, 2) for v in (o, h, low, c))
    wap = round((h + low + c) / 3.0, 4)
    return Bar(start, o, h, low, c, float(trades * lot), wap, trades)
