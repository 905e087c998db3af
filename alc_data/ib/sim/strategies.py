"""The strategies a contract takes part in: conversions, reversals, boxes and calendars.

Used to check that a planted move creates only what a scenario lists
(:mod:`alc_data.ib.sim.planting`), and by tests that scan the market for opportunities.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from alc_data import exchange_calendar as cal
from alc_data.ib.sim.instruments import OptionSpec, UnderlyingSpec
from alc_data.ib.sim.model import QuoteModel
from alc_data.ib.sim.scenario import Leg

__all__ = ["Instrument", "Pair", "strategies_trading"]

Instrument = OptionSpec | UnderlyingSpec
Pair = tuple[Leg, Instrument]


def strategies_trading(
    model: QuoteModel, x: OptionSpec, side: str, ts: float
) -> list[tuple[str, tuple[Pair, ...]]]:
    """Every conversion, reversal, box and calendar listed at ``ts`` that trades ``x`` on
    ``side`` (BUY or SELL): the strategies a move of ``x``'s quote could make opportunities."""
    at = datetime.fromtimestamp(ts, UTC)
    day = at.astimezone(cal.EXCHANGE_TZ).date()
    und, k, t = x.underlying, x.strike, x.expiry

    def opt(strike: float, right: str, leg_side: str, expiry: date = t) -> Pair | None:
        cls = x.trading_class if expiry == t else ""
        o = model.option(und.symbol, expiry, strike, right, cls)
        if o is None or model.listed_on(o) > day or model.is_expired(o, at):
            return None
        return Leg(right, leg_side, expiry, strike), o

    candidates: list[tuple[str, tuple[Pair | None, ...]]] = []
    if not und.is_index:
        stock_buy, stock_sell = (Leg("STK", "BUY"), und), (Leg("STK", "SELL"), und)
        candidates.append(("conversion", (opt(k, "C", "SELL"), opt(k, "P", "BUY"), stock_buy)))
        candidates.append(("reversal", (opt(k, "C", "BUY"), opt(k, "P", "SELL"), stock_sell)))
    for other in model.strikes(und.symbol, t, x.trading_class, day):
        if other == k:
            continue
        lo, hi = sorted((k, other))
        for buy, sell in (("BUY", "SELL"), ("SELL", "BUY")):
            box = (opt(lo, "C", buy), opt(hi, "C", sell), opt(hi, "P", buy), opt(lo, "P", sell))
            candidates.append(("box", box))
    if not (und.is_index and x.right == "P"):  # a European put calendar is no arbitrage
        for expiry in model.expirations(und.symbol, day):
            if expiry != t:
                near, far = sorted((t, expiry))
                pair = (opt(k, x.right, "SELL", near), opt(k, x.right, "BUY", far))
                candidates.append(("calendar", pair))
    found = []
    for kind, maybe in candidates:
        pairs = tuple(p for p in maybe if p is not None)
        if len(pairs) == len(maybe) and any(
            spec.con_id == x.con_id and leg.side == side for leg, spec in pairs
        ):
            found.append((kind, pairs))
    return found
