"""Black-Scholes-Merton prices and greeks (continuous dividend yield), pure Python."""

from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = ["Greeks", "bs_greeks", "bs_price", "implied_vol"]

_SQRT2 = math.sqrt(2.0)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)


def _cdf(x: float) -> float:
    return 0.5 * (1.0 + math.erf(x / _SQRT2))


@dataclass(frozen=True, slots=True)
class Greeks:
    """A price with IB's greek conventions: vega per vol point, theta per calendar day."""

    price: float
    delta: float
    gamma: float
    vega: float
    theta: float
    iv: float
    pv_dividend: float


def bs_price(right: str, s: float, k: float, t: float, r: float, q: float, vol: float) -> float:
    """The Black-Scholes-Merton value of a European call ("C") or put ("P")."""
    if t <= 0.0 or vol <= 0.0:
        return max(0.0, s - k) if right == "C" else max(0.0, k - s)
    sq = vol * math.sqrt(t)
    d1 = (math.log(s / k) + (r - q + 0.5 * vol * vol) * t) / sq
    d2 = d1 - sq
    dq = math.exp(-q * t)
    dr = math.exp(-r * t)
    if right == "C":
        return s * dq * _cdf(d1) - k * dr * _cdf(d2)
    return k * dr * _cdf(-d2) - s * dq * _cdf(-d1)


def bs_greeks(
    right: str, s: float, k: float, t: float, r: float, q: float, vol: float
) -> Greeks:
    """Price and greeks in one pass (t in years, rates continuous)."""
    t = max(t, 1e-6)
    sqt = math.sqrt(t)
    sq = vol * sqt
    d1 = (math.log(s / k) + (r - q + 0.5 * vol * vol) * t) / sq
    d2 = d1 - sq
    dq = math.exp(-q * t)
    dr = math.exp(-r * t)
    pdf = math.exp(-0.5 * d1 * d1) * _INV_SQRT_2PI
    gamma = dq * pdf / (s * sq)
    vega = s * dq * pdf * sqt / 100.0
    common = -s * dq * pdf * vol / (2.0 * sqt)
    if right == "C":
        nd1, nd2 = _cdf(d1), _cdf(d2)
        price = s * dq * nd1 - k * dr * nd2
        delta = dq * nd1
        theta = common - r * k * dr * nd2 + q * s * dq * nd1
    else:
        nd1, nd2 = _cdf(-d1), _cdf(-d2)
        price = k * dr * nd2 - s * dq * nd1
        delta = -dq * nd1
        theta = common + r * k * dr * nd2 - q * s * dq * nd1
    return Greeks(price, delta, gamma, vega, theta / 365.0, vol, s * (1.0 - dq))


def implied_vol(
    right: str, price: float, s: float, k: float, t: float, r: float, q: float, guess: float
) -> float | None:
    """The volatility that prices the option at ``price`` (Newton from ``guess``), or None."""
    intrinsic = max(0.0, s - k) if right == "C" else max(0.0, k - s)
    if price <= intrinsic * math.exp(-r * max(t, 0.0)) * 0.999 or t <= 0.0:
        return None
    vol = guess
    for _ in range(20):
        g = bs_greeks(right, s, k, t, r, q, vol)
        diff = g.price - price
        if abs(diff) < 1e-5:
            return vol
        vega = g.vega * 100.0
        if vega < 1e-8:
            break
        vol = min(5.0, max(0.005, vol - diff / vega))
    return vol if abs(bs_price(right, s, k, t, r, q, vol) - price) < 0.01 else None
