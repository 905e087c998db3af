"""Option values and greeks with QuantLib: European in closed form, American by finite differences.

European values (index options, and the European part of every American option) come from
QuantLib's ``BlackCalculator`` on the forward ``F = (S - PV(D)) e^(rT)`` (cash dividends escrowed).
An American option is worth its European value plus an early-exercise premium (EEP). The EEP
comes from QuantLib's ``FdBlackScholesVanillaEngine`` with the discrete cash dividends as spot
jumps, priced American and European on the same grid (the difference cancels most of the grid
error), on nodes that are cached and interpolated: per contract and New York day, at the day's
start and end, at spot nodes ``K e^(j h)``, cubic Hermite in log spot (values and deltas) and
linear in time. The premium is kept within its theoretical bounds (calls: at most the present
value of the dividends; puts: at most ``K (1 - e^(-rT))``) and the result never below intrinsic
value, so the put-call bounds ``S - D - K <= C - P <= S - K e^(-rT)`` hold exactly.

QuantLib's dates have a resolution of one day; intraday times are exact here because the finite-
difference problem is solved in a rescaled time (one QuantLib day is a quarter of an hour; the
Black-Scholes problem is unchanged by ``t -> l t, sigma -> sigma / sqrt(l), r -> r / l``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import QuantLib as ql

from alc_data.ib.sim.core import Greeks

__all__ = ["NODE_STEP", "EarlyExercise", "EuropeanValue", "european", "to_greeks"]

_CALL, _PUT = ql.Option.Call, ql.Option.Put
_SCALE = 96.0  # QuantLib days per real day in the finite-difference problems
_REFERENCE = ql.Date(1, 1, 1901)
NODE_STEP = 0.015  # log-spot spacing of the EEP nodes
_T_GRID, _X_GRID = 40, 100
_MAX_NODES = 400_000


@dataclass(frozen=True, slots=True)
class EuropeanValue:
    """A European value and its greeks (per year theta, per unit vol vega)."""

    price: float
    delta: float
    gamma: float
    vega: float
    theta: float


def european(
    right: str, s: float, k: float, t: float, r: float, pv_div: float, vol: float
) -> EuropeanValue:
    """The European value of a call ("C") or put ("P") with escrowed cash dividends."""
    spot = s - pv_div
    if t <= 1e-9 or vol <= 0.0:
        intrinsic = max(0.0, spot - k) if right == "C" else max(0.0, k - spot)
        itm = intrinsic > 0.0
        delta = (1.0 if right == "C" else -1.0) if itm else 0.0
        return EuropeanValue(intrinsic, delta, 0.0, 0.0, 0.0)
    discount = math.exp(-r * t)
    calc = ql.BlackCalculator(_payoff(right, k), spot / discount, vol * math.sqrt(t), discount)
    return EuropeanValue(
        calc.value(), calc.delta(spot), calc.gamma(spot), calc.vega(t), calc.theta(spot, t)
    )


def to_greeks(value: EuropeanValue, price: float, vol: float, pv_div: float) -> Greeks:
    """IB's conventions: vega per vol point, theta per calendar day."""
    return Greeks(
        price, value.delta, value.gamma, value.vega / 100.0, value.theta / 365.0, vol, pv_div
    )


@lru_cache(maxsize=65_536)
def _payoff(right: str, k: float) -> ql.PlainVanillaPayoff:
    return ql.PlainVanillaPayoff(_CALL if right == "C" else _PUT, k)


class _Solver:
    """QuantLib objects reused by every finite-difference node (one rate)."""

    def __init__(self, rate: float) -> None:
        ql.Settings.instance().evaluationDate = _REFERENCE
        day_count = ql.Actual365Fixed()
        self.spot = ql.SimpleQuote(100.0)
        self.vol = ql.SimpleQuote(0.2)
        rates = ql.YieldTermStructureHandle(ql.FlatForward(_REFERENCE, rate / _SCALE, day_count))
        no_yield = ql.YieldTermStructureHandle(ql.FlatForward(_REFERENCE, 0.0, day_count))
        vols = ql.BlackVolTermStructureHandle(
            ql.BlackConstantVol(_REFERENCE, ql.NullCalendar(), ql.QuoteHandle(self.vol), day_count)
        )
        self.process = ql.BlackScholesMertonProcess(
            ql.QuoteHandle(self.spot), no_yield, rates, vols
        )

    def eep(
        self,
        right: str,
        k: float,
        s: float,
        vol: float,
        t: float,
        dividends: Sequence[tuple[float, float]],
    ) -> tuple[float, float]:
        """(premium, its derivative in spot) at spot ``s``, ``t`` years to expiry."""
        days = max(1, round(t * 365.0 * _SCALE))
        maturity = _REFERENCE + days
        schedule = [
            ql.FixedDividend(amount, _REFERENCE + min(days - 1, max(1, round(ti * 365.0 * _SCALE))))
            for ti, amount in dividends
            if ti < t
        ]
        self.spot.setValue(s)
        self.vol.setValue(vol / math.sqrt(_SCALE))
        engine = ql.FdBlackScholesVanillaEngine(self.process, schedule, _T_GRID, _X_GRID)
        payoff = _payoff(right, k)
        american = ql.VanillaOption(payoff, ql.AmericanExercise(_REFERENCE, maturity))
        european_ = ql.VanillaOption(payoff, ql.EuropeanExercise(maturity))
        american.setPricingEngine(engine)
        european_.setPricingEngine(engine)
        return american.NPV() - european_.NPV(), american.delta() - european_.delta()


@dataclass(frozen=True, slots=True)
class _Node:
    value: float
    slope: float  # d premium / d ln S


class EarlyExercise:
    """Cached, interpolated early-exercise premia of American options (see the module)."""

    def __init__(self, rate: float) -> None:
        self.rate = rate
        self._solver: _Solver | None = None
        self._nodes: dict[tuple[object, ...], _Node] = {}

    def node(
        self,
        key: tuple[object, ...],
        right: str,
        k: float,
        j: int,
        vol: float,
        t: float,
        dividends: Sequence[tuple[float, float]],
    ) -> _Node:
        """The premium at spot node ``K e^(j h)`` (computed once per ``key`` and ``j``)."""
        full = (*key, j)
        found = self._nodes.get(full)
        if found is None:
            if self._solver is None:
                self._solver = _Solver(self.rate)
            s = k * math.exp(j * NODE_STEP)
            value, delta = self._solver.eep(right, k, s, vol, t, dividends)
            if len(self._nodes) > _MAX_NODES:
                self._nodes.clear()
            found = self._nodes[full] = _Node(value, delta * s)
        return found

    def premium(
        self,
        right: str,
        k: float,
        s: float,
        vol: float,
        t: float,
        dividends: Sequence[tuple[float, float]],
    ) -> tuple[float, float]:
        """(premium, its spot derivative) solved at once, uncached (for one-off calculations)."""
        if self._solver is None:
            self._solver = _Solver(self.rate)
        return self._solver.eep(right, k, s, vol, t, dividends)

    @staticmethod
    def locate(s: float, k: float) -> tuple[int, float]:
        """The node below ``s`` and the position (0..1) of ``s`` between it and the next."""
        x = math.log(s / k) / NODE_STEP
        j = math.floor(x)
        return j, x - j

    @staticmethod
    def hermite(a: _Node, b: _Node, u: float) -> tuple[float, float, float]:
        """Value, d/d(ln S) and d2/d(ln S)2 between two nodes (u in 0..1, step h)."""
        h = NODE_STEP
        u2, u3 = u * u, u * u * u
        h00, h10, h01, h11 = 2 * u3 - 3 * u2 + 1, u3 - 2 * u2 + u, -2 * u3 + 3 * u2, u3 - u2
        value = h00 * a.value + h10 * h * a.slope + h01 * b.value + h11 * h * b.slope
        d00, d10, d01, d11 = 6 * u2 - 6 * u, 3 * u2 - 4 * u + 1, -6 * u2 + 6 * u, 3 * u2 - 2 * u
        slope = (d00 * a.value + d01 * b.value) / h + d10 * a.slope + d11 * b.slope
        e00, e10, e01, e11 = 12 * u - 6, 6 * u - 4, 6 - 12 * u, 6 * u - 2
        curve = (e00 * a.value + e01 * b.value) / (h * h) + (e10 * a.slope + e11 * b.slope) / h
        return value, slope, curve
