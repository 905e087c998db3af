"""No-arbitrage rules: each option within its bounds, and put-call parity for matched pairs.

Both judge executable prices (a violation means one could trade the quotes for a riskless
profit) with a tolerance of :data:`TOLERANCE` x the underlying price, so that quotes taken a
moment apart from the underlying's are not flagged; what remains is a data error (or a real,
large arbitrage, which deserves a look too). Index options (``sec_type`` IND) are European;
stock and ETF options are American. Interest is ``ALC_RISK_FREE_RATE`` (continuous); cash
dividends come from ``corporate_actions`` (ex-date after the tick's day, up to expiry).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from typing import NamedTuple

from alc_data.trading_sessions import SessionClock, plausible
from alc_data.validation.rule import BatchRule
from alc_data.validation.types import (
    Finding,
    MarketDataSnapshot,
    ValidationContext,
    ValidationResult,
)

__all__ = [
    "ArbitrageBoundsRule",
    "PutCallParityRule",
    "Terms",
    "bounds",
    "option_bounds",
    "pair_band",
    "parity_band",
]

#: Violations smaller than this fraction of the underlying price are not flagged.
TOLERANCE = 0.005
#: Index dividends are not in corporate_actions; allow up to this yield on European options.
MAX_INDEX_YIELD = 0.05
#: A call and a put quote are compared when they were observed at most this far apart.
PAIR_WINDOW = timedelta(seconds=10)
INF = math.inf


class Terms(NamedTuple):
    """What the bounds depend on besides the option's own quote."""

    spot: float
    strike: float
    years: float
    rate: float
    dividends: float  # present value of the known cash dividends up to expiry
    european: bool

    @property
    def discount(self) -> float:
        """``exp(-rate * years)``."""
        return math.exp(-self.rate * self.years)


def option_bounds(
    right: str, spot: float, strike: float, discount: float, dividends: float, european: bool
) -> tuple[float, float]:
    """:func:`bounds` from its parts (the rules' hot path)."""
    pv_k = strike * discount
    if right == "C":
        lower = spot - dividends - pv_k
        if not european and spot - strike > lower:
            lower = spot - strike
        return (lower if lower > 0.0 else 0.0), spot
    lower = pv_k - spot + dividends
    if european:
        return (lower if lower > 0.0 else 0.0), pv_k
    if strike - spot > lower:
        lower = strike - spot
    return (lower if lower > 0.0 else 0.0), strike


def bounds(right: str, terms: Terms) -> tuple[float, float]:
    """``(lower, upper)`` no-arbitrage bounds of an option price.

    Calls: ``max(0, S - D - K e^(-rT))`` (American also ``S - K``) to ``S``. Puts:
    ``max(0, K e^(-rT) - S + D)`` (American also ``K - S``) to ``K`` (European ``K e^(-rT)``).
    """
    return option_bounds(
        right, terms.spot, terms.strike, terms.discount, terms.dividends, terms.european
    )


def parity_band(terms: Terms) -> tuple[float, float]:
    """``(lower, upper)`` bounds of ``call - put`` for one strike and expiry.

    American: ``[S - D - K, S - K e^(-rT)]``. European: ``S - D - K e^(-rT)``, widened below
    by ``S (1 - e^(-qT))`` with ``q`` = :data:`MAX_INDEX_YIELD` when no dividend is known.
    """
    room = 1.0 - math.exp(-MAX_INDEX_YIELD * terms.years)
    return pair_band(
        terms.spot, terms.strike, terms.discount, terms.dividends, terms.european, room
    )


def pair_band(
    spot: float, strike: float, discount: float, dividends: float, european: bool, room: float
) -> tuple[float, float]:
    """:func:`parity_band` from its parts (the rules' hot path)."""
    if european:
        upper = spot - dividends - strike * discount
        return (upper - spot * room if dividends == 0.0 else upper), upper
    return spot - dividends - strike, spot - strike * discount


class _Static(NamedTuple):
    discount: float
    dividends: float
    european: bool
    room: float  # 1 - exp(-MAX_INDEX_YIELD * years)
    years: float


class _TermsBuilder:
    """What is constant for a contract on one trading day: discount, dividends, style.

    Time to expiry is counted in calendar days from the tick's trading day to expiry, / 365
    (0 on the expiration day); ticks after expiry are not judged.
    """

    def __init__(self, context: ValidationContext) -> None:
        self.rate = context.limits.risk_free_rate
        self.dividends: Mapping[int, Sequence[tuple[date, float]]] = context.dividends
        self._static: dict[tuple[object, ...], _Static | None] = {}
        self._clock = SessionClock()

    def static(self, s: MarketDataSnapshot) -> _Static | None:
        """None when the snapshot has no usable time or expiry, or is past its expiry."""
        t = s.time
        if not plausible(t):
            return None
        day = self._clock.day(t)
        key = (s.expiry, s.underlying_id, s.sec_type, day)
        try:
            return self._static[key]
        except KeyError:
            found = self._static[key] = self._compute(s, day)
            return found

    def _compute(self, s: MarketDataSnapshot, day: date) -> _Static | None:
        expiry = s.expiry
        if not isinstance(expiry, date) or expiry < day:
            return None
        years = (expiry - day).days / 365.0
        pv = 0.0
        if s.underlying_id is not None:
            for ex_date, amount in self.dividends.get(s.underlying_id, ()):
                if day < ex_date <= expiry and amount is not None and math.isfinite(amount):
                    pv += amount * math.exp(-self.rate * (ex_date - day).days / 365.0)
        room = 1.0 - math.exp(-MAX_INDEX_YIELD * years)
        return _Static(math.exp(-self.rate * years), pv, s.sec_type == "IND", room, years)

    def terms(self, s: MarketDataSnapshot, spot: float) -> Terms | None:
        """The full :class:`Terms` of a snapshot (for messages and tests)."""
        st = self.static(s)
        if st is None or s.strike is None:
            return None
        return Terms(spot, float(s.strike), st.years, self.rate, st.dividends, st.european)


def _price(x: float | None) -> bool:
    return x is not None and 0.0 < x < INF


class ArbitrageBoundsRule(BatchRule):
    """Each option's quote lies within its no-arbitrage bounds given the underlying price.

    Invalid when the ask is below the lower bound or the bid above the upper bound (see
    :func:`bounds`) by more than :data:`TOLERANCE` x the underlying price. Needs a two-sided
    quote (``0 <= bid <= ask < inf``), the underlying price, strike, right and expiry.
    """

    def __init__(self) -> None:
        super().__init__(
            "arbitrage_bounds", "lower bound <= ask and bid <= upper bound given the underlying"
        )

    def check(
        self, snapshots: Sequence[MarketDataSnapshot], context: ValidationContext
    ) -> list[Finding]:
        builder = _TermsBuilder(context)
        out = []
        for s in snapshots:
            right, b, a, spot, k = s.right, s.bid_price, s.ask_price, s.underlying_price, s.strike
            if (
                (right != "C" and right != "P") or b is None or a is None
                or not 0.0 <= b <= a < INF or spot is None or not 0.0 < spot < INF
                or k is None or not 0.0 < k < INF
            ):  # fmt: skip
                continue
            st = builder.static(s)
            if st is None:
                continue
            lower, upper = option_bounds(right, spot, k, st.discount, st.dividends, st.european)
            tol = TOLERANCE * spot
            if a < lower - tol:
                message = f"ask {a:.4g} below the lower bound {lower:.4g} (S={spot:g}, K={k:g})"
                out.append(self.found(s, ValidationResult.INVALID, message, a, lower))
            elif b > upper + tol:
                message = f"bid {b:.4g} above the upper bound {upper:.4g} (S={spot:g}, K={k:g})"
                out.append(self.found(s, ValidationResult.INVALID, message, b, upper))
        return out


class PutCallParityRule(BatchRule):
    """A call and a put of one strike and expiry, quoted within 10 s, respect parity.

    Flags (warning) when ``call_ask - put_bid`` is below the parity band or
    ``call_bid - put_ask`` above it (see :func:`parity_band`) by more than :data:`TOLERANCE`
    x the underlying price. The pair's underlying price is the later quote's (their mean when
    simultaneous), so the verdict does not depend on which of the two arrived first.
    """

    def __init__(self) -> None:
        super().__init__("put_call_parity", "call - put within the parity band for the pair")

    def check(
        self, snapshots: Sequence[MarketDataSnapshot], context: ValidationContext
    ) -> list[Finding]:
        builder = _TermsBuilder(context)
        latest: dict[tuple[object, ...], MarketDataSnapshot] = context.state.setdefault(
            self.name, {}
        )
        out = []
        for s in snapshots:
            right, b, a = s.right, s.bid_price, s.ask_price
            if (right != "C" and right != "P") or b is None or a is None or not 0.0 <= b <= a < INF:
                continue
            key = (s.underlying_id, s.underlying, s.expiry, s.strike, right)
            latest[key] = s
            other = latest.get((*key[:4], "P" if right == "C" else "C"))
            if other is not None:
                finding = self._judge(s, other, builder)
                if finding is not None:
                    out.append(finding)
        return out

    def _judge(
        self, s: MarketDataSnapshot, other: MarketDataSnapshot, builder: _TermsBuilder
    ) -> Finding | None:
        try:
            if abs(s.time - other.time) > PAIR_WINDOW:
                return None
        except TypeError:  # naive and aware times (or no time): time_consistency reports it
            return None
        spot, k = _pair_spot(s, other), s.strike
        st = builder.static(s)
        if spot is None or k is None or not 0.0 < k < INF or st is None:
            return None
        call, put = (s, other) if s.right == "C" else (other, s)
        lower, upper = pair_band(spot, k, st.discount, st.dividends, st.european, st.room)
        tol = TOLERANCE * spot
        cb, ca, pb, pa = call.bid_price, call.ask_price, put.bid_price, put.ask_price
        assert cb is not None and ca is not None and pb is not None and pa is not None
        if ca - pb < lower - tol:
            value, limit, side = ca - pb, lower, "call ask - put bid below"
        elif cb - pa > upper + tol:
            value, limit, side = cb - pa, upper, "call bid - put ask above"
        else:
            return None
        message = f"{side} the parity band: {value:.4g} vs {limit:.4g} (S={spot:g}, K={k:g})"
        return self.found(s, ValidationResult.WARNING, message, value, limit)


def _pair_spot(s: MarketDataSnapshot, other: MarketDataSnapshot) -> float | None:
    """The underlying price for a pair: the later quote's, or their mean when simultaneous."""
    a, b = s.underlying_price, other.underlying_price
    a_ok, b_ok = _price(a), _price(b)
    if a_ok and b_ok and s.time == other.time:
        assert a is not None and b is not None
        return (a + b) / 2
    if s.time >= other.time:
        return a if a_ok else (b if b_ok else None)
    return b if b_ok else (a if a_ok else None)
