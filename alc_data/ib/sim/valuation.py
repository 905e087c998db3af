"""One option's market at one instant: value, greeks, bid and ask.

The value is :mod:`alc_data.ib.sim.pricing`'s (European, or European plus the early-exercise
premium) on the :mod:`alc_data.ib.sim.surface` volatility; the quote is the value minus and plus
half a width, rounded outwards to the tick, so ``bid < value < ask`` always: any combination of
legs bought at the asks and sold at the bids costs at least what the arbitrage-free values say.
The width (see :func:`width`) is a cent or two near the money on SPY and grows with price,
distance from the money and time to expiry.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from alc_data import exchange_calendar as cal
from alc_data.ib.sim.core import YEAR_SECONDS, Greeks, ceil_tick, floor_tick
from alc_data.ib.sim.dividends import dividends_between, ex_time
from alc_data.ib.sim.instruments import OptionSpec, UnderlyingSpec
from alc_data.ib.sim.pricing import NODE_STEP, EarlyExercise, european, to_greeks
from alc_data.ib.sim.surface import Smile, atm_total_variance, smile_for, total_variance

__all__ = ["OptionMarket", "Valuer", "width"]

_DAY = 86_400.0
_MIN_T = 1.0 / (365.0 * 24.0 * 60.0)  # one minute: below it, an option is worth its intrinsic
_FAR = 3.5  # standard deviations from the money


@dataclass(frozen=True, slots=True)
class OptionMarket:
    """Model greeks and the quote of one option at one spot and minute."""

    greeks: Greeks
    bid: float
    ask: float
    bid_greeks: Greeks | None
    ask_greeks: Greeks | None
    tick: float
    z: float  # distance from the money in standard deviations


def option_tick(option: OptionSpec, price: float) -> float:
    """The minimum price increment at ``price`` (penny pilot; SPX nickels and dimes)."""
    symbol = option.underlying.symbol
    if symbol == "SPX":
        return 0.05 if price < 3.0 else 0.10
    if symbol == "AAPL":
        return 0.01 if price < 3.0 else 0.05
    return 0.01


def width(price: float, spot: float, t: float, z: float) -> float:
    """The quoted width before rounding to ticks (dollars)."""
    base = 0.003 * spot / 500.0 + 0.001 * price
    return base * (1.0 + 1.5 * math.sqrt(t)) * (1.0 + 0.15 * min(z, 6.0))


class Valuer:
    """Values options of every underlying for one seed's volatility regime and one rate."""

    def __init__(
        self, rate: float, levels: Callable[[UnderlyingSpec, float], tuple[float, float]]
    ) -> None:
        self.rate = rate
        self.levels = levels
        self.eep = EarlyExercise(rate)

    def dividends(self, option: OptionSpec, at_ts: float) -> list[tuple[float, float]]:
        """(years from ``at_ts``, amount) of the dividends going ex before expiry."""
        spec = option.underlying
        if spec.dividends is None:
            return []
        day = datetime.fromtimestamp(at_ts, UTC).astimezone(cal.EXCHANGE_TZ).date()
        result = []
        for d in dividends_between(spec, day, option.expiry):
            ex = ex_time(d.ex_date).timestamp()
            if at_ts < ex < option.expires_at.timestamp():
                result.append(((ex - at_ts) / YEAR_SECONDS, d.amount))
        return result

    def vol(
        self, option: OptionSpec, s: float, t: float, pv: float, levels: tuple[float, float]
    ) -> float:
        """The surface's implied volatility of ``option`` at spot ``s``."""
        t = max(t, _MIN_T)
        forward = (s - pv) * math.exp(self.rate * t)
        theta = atm_total_variance(t, *levels)
        smile: Smile = smile_for(option.underlying.product != "stock")
        return math.sqrt(total_variance(math.log(option.strike / forward), theta, smile) / t)

    def market(
        self, option: OptionSpec, s: float, at_ts: float, levels: tuple[float, float]
    ) -> OptionMarket:
        """The option's model value, greeks and quote at spot ``s`` and epoch second ``at_ts``.

        ``levels`` are the (short-end, long-run) at-the-money volatilities of the day.
        """
        k, right, r = option.strike, option.right, self.rate
        t = max(option.expires_at.timestamp() - at_ts, 0.0) / YEAR_SECONDS
        divs = self.dividends(option, at_ts)
        pv = sum(a * math.exp(-r * ti) for ti, a in divs)
        vol = self.vol(option, s, t, pv, levels)
        e = european(right, s, k, t if t > _MIN_T else 0.0, r, pv, vol)
        price, delta, gamma, theta = e.price, e.delta, e.gamma, e.theta
        z = abs(math.log(k / s)) / (vol * math.sqrt(max(t, 1.0 / 365.0)))
        itm = (s > k) == (right == "C")
        # Far out of the money the premium is nil; a put far in the money is exercised at once
        # (worth its intrinsic value): neither needs the finite-difference nodes.
        if not option.european and t > _MIN_T and (z < _FAR or (itm and right == "C")):
            premium, d_s, d2_s, d_t = self._premium(option, s, at_ts, t, levels)
            cap = pv if right == "C" else k * (1.0 - math.exp(-r * t))
            premium = min(max(premium, 0.0), cap)
            price, delta, gamma, theta = price + premium, delta + d_s, gamma + d2_s, theta + d_t
        intrinsic = max(0.0, s - k) if right == "C" else max(0.0, k - s)
        if not option.european and price < intrinsic:
            price = intrinsic
        tick = option_tick(option, price)
        half = width(price, s, t, z) / 2.0
        bid = max(0.0, floor_tick(price - half, tick))
        ask = max(tick, ceil_tick(price + half, tick))
        delta = min(max(delta, 0.0), 1.0) if right == "C" else min(max(delta, -1.0), 0.0)
        model = Greeks(price, delta, max(gamma, 0.0), e.vega / 100.0, theta / 365.0, vol, pv)
        sides = [self._side(option, side, price, e.vega, vol, s, t, pv) for side in (bid, ask)]
        return OptionMarket(model, bid, ask, sides[0], sides[1], tick, z)

    def _side(
        self,
        option: OptionSpec,
        quoted: float,
        price: float,
        vega: float,
        vol: float,
        s: float,
        t: float,
        pv: float,
    ) -> Greeks | None:
        """Greeks at the volatility that the quoted side implies (one Newton step)."""
        if quoted <= 0.0 or vega <= 1e-9 or t <= _MIN_T:
            return None
        side_vol = max(0.01, vol + (quoted - price) / vega)
        e = european(option.right, s, option.strike, t, self.rate, pv, side_vol)
        return to_greeks(e, quoted, side_vol, pv)

    def _premium(
        self, option: OptionSpec, s: float, at_ts: float, t: float, levels: tuple[float, float]
    ) -> tuple[float, float, float, float]:
        """EEP, its spot derivatives and its time derivative (per year) at (s, at_ts).

        Time nodes are whole days before expiry (so consecutive days share them), cut at
        ex-dates: the interval holding ``at_ts`` never spans a change of the dividends due.
        """
        expires = option.expires_at.timestamp()
        upper = expires - math.floor((expires - at_ts) / _DAY) * _DAY
        lower = upper - _DAY
        for _, _, ex in self._ex_times(option, lower):
            if at_ts < ex <= upper:
                upper = max(ex - 900.0, at_ts + 1.0)
            elif lower < ex <= at_ts:
                lower = ex
        w = min(max((at_ts - lower) / (upper - lower), 0.0), 1.0)
        v1, d1, g1 = self._at_node(option, s, upper)
        v0, d0, g0 = (v1, d1, g1) if w == 1.0 else self._at_node(option, s, lower)
        theta = (v1 - v0) / ((upper - lower) / YEAR_SECONDS)  # value change per year ahead
        return v0 + (v1 - v0) * w, d0 + (d1 - d0) * w, g0 + (g1 - g0) * w, theta

    def _ex_times(self, option: OptionSpec, after_ts: float) -> list[tuple[date, float, float]]:
        spec = option.underlying
        if spec.dividends is None:
            return []
        day = datetime.fromtimestamp(after_ts, UTC).astimezone(cal.EXCHANGE_TZ).date()
        found = dividends_between(spec, day - timedelta(days=1), option.expiry)
        return [(d.ex_date, d.amount, ex_time(d.ex_date).timestamp()) for d in found]

    def _at_node(self, option: OptionSpec, s: float, node_ts: float) -> tuple[float, float, float]:
        expires = option.expires_at.timestamp()
        tau = max(expires - node_ts, 0.0) / YEAR_SECONDS
        if tau <= _MIN_T:
            return 0.0, 0.0, 0.0
        divs = [
            ((ex - node_ts) / YEAR_SECONDS, amount)
            for _, amount, ex in self._ex_times(option, node_ts)
            if node_ts < ex < expires
        ]
        if option.right == "C" and not divs:
            return 0.0, 0.0, 0.0  # an American call on a stock paying nothing is European
        pv = sum(a * math.exp(-self.rate * ti) for ti, a in divs)
        levels = self.levels(option.underlying, node_ts)
        j, u = self.eep.locate(s, option.strike)
        key = (option.con_id, round(node_ts))
        nodes = []
        for jj in (j, j + 1):
            spot = option.strike * math.exp(jj * NODE_STEP)
            vol = self.vol(option, spot, tau, pv, levels)
            nodes.append(self.eep.node(key, option.right, option.strike, jj, vol, tau, divs))
        value, slope, curve = self.eep.hermite(nodes[0], nodes[1], u)
        return value, slope / s, (curve - slope) / (s * s)
