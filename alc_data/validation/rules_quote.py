"""Rules on one quote at a time: price sanity, spread width, greeks bounds.

Each ``check`` runs a cheap all-is-well test per snapshot and only builds a message for the
snapshots that fail it; that is what keeps the built-in set above 100,000 ticks/s.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from alc_data.validation.rule import BatchRule
from alc_data.validation.types import (
    Finding,
    MarketDataSnapshot,
    ValidationContext,
    ValidationResult,
)

__all__ = ["GreeksBoundsRule", "PriceSanityRule", "WideSpreadRule"]

INF = math.inf
#: Slack for greeks computed in floating point (a call delta of -1e-12 is still zero).
GREEK_EPSILON = 1e-9
#: Implied volatility must lie in (0, MAX_IMPLIED_VOLATILITY]; 10 = 1000 % fits VIX and 0DTE.
MAX_IMPLIED_VOLATILITY = 10.0

_PRICES = ("bid_price", "ask_price", "last_price", "underlying_price")
_SIZES = ("bid_size", "ask_size", "last_size", "volume", "open_interest")

INVALID = ValidationResult.INVALID
WARNING = ValidationResult.WARNING


class PriceSanityRule(BatchRule):
    """Negative or non-finite prices and sizes, and crossed markets (bid > ask), are invalid.

    A locked market (bid == ask) and a zero bid are market states, not errors.
    """

    def __init__(self) -> None:
        super().__init__(
            "price_sanity",
            "prices and sizes are finite and >= 0; the market is not crossed (bid <= ask)",
            critical=True,
        )

    def check(
        self, snapshots: Sequence[MarketDataSnapshot], context: ValidationContext
    ) -> list[Finding]:
        out = []
        for s in snapshots:
            b = s.bid_price
            a = s.ask_price
            if (
                (b is None or 0.0 <= b < INF)
                and (a is None or 0.0 <= a < INF)
                and (b is None or a is None or b <= a)
                and ((x := s.last_price) is None or 0.0 <= x < INF)
                and ((x := s.underlying_price) is None or 0.0 <= x < INF)
                and ((x := s.bid_size) is None or 0.0 <= x < INF)
                and ((x := s.ask_size) is None or 0.0 <= x < INF)
                and ((x := s.last_size) is None or 0.0 <= x < INF)
                and ((x := s.volume) is None or 0.0 <= x < INF)
                and ((x := s.open_interest) is None or 0.0 <= x < INF)
            ):
                continue
            out.append(self._diagnose(s))
        return out

    def _diagnose(self, s: MarketDataSnapshot) -> Finding:
        problems = []
        for name in (*_PRICES, *_SIZES):
            value = getattr(s, name)
            if value is not None and not 0.0 <= value < INF:
                kind = "negative" if value < 0 else "not finite"
                problems.append(f"{name} {kind} ({value!r})")
        b, a = s.bid_price, s.ask_price
        crossed = b is not None and a is not None and b > a
        if crossed:
            problems.insert(0, f"crossed market: bid {b!r} > ask {a!r}")
        value = (b - a) if crossed and b is not None and a is not None else None
        return self.found(s, INVALID, "; ".join(problems), value, 0.0 if crossed else None)


class WideSpreadRule(BatchRule):
    """A spread wider than ``MAX_SPREAD_PERCENT`` of the mid is flagged as a warning.

    Only two-sided quotes (bid > 0 and bid <= ask) are judged: a zero bid is a state, and a
    crossed or negative quote is :class:`PriceSanityRule`'s business.
    """

    def __init__(self) -> None:
        super().__init__("wide_spread", "ask - bid <= MAX_SPREAD_PERCENT x mid on two-sided quotes")

    def check(
        self, snapshots: Sequence[MarketDataSnapshot], context: ValidationContext
    ) -> list[Finding]:
        pct = context.limits.max_spread_percent
        out = []
        for s in snapshots:
            b = s.bid_price
            a = s.ask_price
            if b is None or a is None or not 0.0 < b <= a < INF:
                continue
            mid = (b + a) / 2
            if a - b > pct * mid:
                ratio = (a - b) / mid
                message = f"spread {a - b:.4g} is {ratio:.1%} of mid {mid:.4g} (> {pct:.1%})"
                out.append(self.found(s, WARNING, message, ratio, pct))
        return out


class GreeksBoundsRule(BatchRule):
    """Greeks within the bounds every model respects, for stock and index options alike.

    Delta in [-1, 1] with the sign its right implies (calls >= 0, puts <= 0), gamma >= 0,
    vega >= 0, implied volatility in (0, 10], theta and rho finite. Missing greeks are not
    judged here (the quality report counts them).
    """

    def __init__(self) -> None:
        super().__init__(
            "greeks_bounds",
            "delta in [-1, 1] signed by right, gamma >= 0, vega >= 0, 0 < IV <= 10",
        )

    def check(
        self, snapshots: Sequence[MarketDataSnapshot], context: ValidationContext
    ) -> list[Finding]:
        lo, hi = -1.0 - GREEK_EPSILON, 1.0 + GREEK_EPSILON
        eps = GREEK_EPSILON
        out = []
        for s in snapshots:
            d = s.delta
            g = s.gamma
            v = s.vega
            iv = s.implied_volatility
            if (
                (d is None or (lo <= d <= hi and (d >= -eps if s.right == "C" else True)
                               and (d <= eps if s.right == "P" else True)))
                and (g is None or -eps <= g < INF)
                and (v is None or -eps <= v < INF)
                and (iv is None or 0.0 < iv <= MAX_IMPLIED_VOLATILITY)
                and (s.theta is None or -INF < s.theta < INF)
                and (s.rho is None or -INF < s.rho < INF)
            ):  # fmt: skip
                continue
            out.append(self.found(s, INVALID, "; ".join(_greek_problems(s))))
        return out


def _greek_problems(s: MarketDataSnapshot) -> list[str]:
    eps = GREEK_EPSILON
    problems = []
    d = s.delta
    if d is not None:
        if not -1.0 - eps <= d <= 1.0 + eps:
            problems.append(f"delta {d!r} outside [-1, 1]")
        elif s.right == "C" and d < -eps:
            problems.append(f"call delta {d!r} < 0")
        elif s.right == "P" and d > eps:
            problems.append(f"put delta {d!r} > 0")
    for name in ("gamma", "vega"):
        value = getattr(s, name)
        if value is not None and not -eps <= value < INF:
            problems.append(f"{name} {value!r} < 0" if value < 0 else f"{name} {value!r}")
    iv = s.implied_volatility
    if iv is not None and not 0.0 < iv <= MAX_IMPLIED_VOLATILITY:
        problems.append(f"implied volatility {iv!r} outside (0, {MAX_IMPLIED_VOLATILITY:g}]")
    for name in ("theta", "rho"):
        value = getattr(s, name)
        if value is not None and not -INF < value < INF:
            problems.append(f"{name} {value!r} not finite")
    return problems
