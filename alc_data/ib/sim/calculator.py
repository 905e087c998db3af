"""IB's option calculator (calculateOptionPrice, calculateImpliedVolatility) on the model.

Both value the option as the market does (European closed form, plus the early-exercise premium
of an American option solved by QuantLib's finite differences, with the discrete cash
dividends), but at the volatility and underlying price the client gives instead of the
surface's and the quoted midpoint.
"""

from __future__ import annotations

import math

from alc_data.ib.sim.core import YEAR_SECONDS, Greeks
from alc_data.ib.sim.instruments import OptionSpec
from alc_data.ib.sim.model import QuoteModel
from alc_data.ib.sim.pricing import european

__all__ = ["implied_vol", "value_at_vol"]

_MIN_T = 1.0 / (365.0 * 24.0 * 60.0)
_VOL_RANGE = (0.005, 5.0)
_VOL_TOLERANCE = 1e-6


def value_at_vol(
    model: QuoteModel, option: OptionSpec, s: float, vol: float, at_ts: float
) -> Greeks:
    """The option's value and greeks at spot ``s``, volatility ``vol`` and epoch ``at_ts``."""
    r = model.rate
    t = max(option.expires_at.timestamp() - at_ts, 0.0) / YEAR_SECONDS
    divs = model.valuer.dividends(option, at_ts)
    pv = sum(a * math.exp(-r * ti) for ti, a in divs)
    e = european(option.right, s, option.strike, t if t > _MIN_T else 0.0, r, pv, vol)
    price, delta = e.price, e.delta
    if not option.european and t > _MIN_T:
        premium, d_s = model.valuer.eep.premium(option.right, option.strike, s, vol, t, divs)
        cap = pv if option.right == "C" else option.strike * (1.0 - math.exp(-r * t))
        price += min(max(premium, 0.0), cap)
        delta += d_s
    intrinsic = max(0.0, s - option.strike) if option.right == "C" else max(0.0, option.strike - s)
    if not option.european:
        price = max(price, intrinsic)
    return Greeks(price, delta, e.gamma, e.vega / 100.0, e.theta / 365.0, vol, pv)


def implied_vol(
    model: QuoteModel, option: OptionSpec, price: float, s: float, at_ts: float
) -> Greeks | None:
    """The volatility at which the option is worth ``price`` (None when no volatility is)."""
    lo, hi = _VOL_RANGE
    if not value_at_vol(model, option, s, lo, at_ts).price <= price:
        return None
    if not price <= value_at_vol(model, option, s, hi, at_ts).price:
        return None
    while hi - lo > _VOL_TOLERANCE:
        mid = (lo + hi) / 2.0
        if value_at_vol(model, option, s, mid, at_ts).price < price:
            lo = mid
        else:
            hi = mid
    return value_at_vol(model, option, s, (lo + hi) / 2.0, at_ts)
