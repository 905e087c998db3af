"""The edge of an arbitrage at executable prices: what a planted opportunity is measured in.

Edge is dollars per strategy unit (one contract per option leg, 100 shares for the stock leg)
after fees: ``100 * (cash + settlement) - fees``, where ``cash`` per share is the sold legs' bids
minus the bought legs' asks, and ``settlement`` the present value, in the worst case the
American legs allow, of what the position pays or owes at the end:

- conversion (buy stock, buy put, sell call at strike K): receives K at expiry at the latest:
  ``+K * DF``;
- reversal (sell stock, sell put, buy call): owes K (at once, if the put is assigned) and the
  dividends on the short stock: ``-(K + PV(D))``;
- long box (buy the K1 call and the K2 put, sell the other two, K1 < K2): receives K2 - K1 at
  expiry at the latest: ``+(K2 - K1) * DF``;
- short box (sell the K1 call and the K2 put, buy the other two): owes K2 - K1 at expiry;
  American legs can be assigned early, and what is left then is a conversion at K1 (the K2 put
  assigned: K2 paid now, K1 received at expiry) or a reversal at K2 (the K1 call assigned: the
  dividends owed on the short stock): ``-(K2 - K1) - max(K1 (1 - DF), PV(D))``; European
  (SPX) options settle at expiry only: ``-(K2 - K1) * DF``;
- calendar (sell the near expiry, buy the far, same strike and right): nothing (the far option
  is worth at least the near one): ``0``.

``DF = exp(-r T)`` with the model's rate ``r`` and ``T`` the years from the start of the
quote's minute to the options' expiry (the near one for a calendar), as the model values them;
``PV(D)`` is the present value of the dividends before expiry (the ``pvDividend`` of the options'
model greeks). Fees: per option contract for each option leg, per share for the 100 shares.
In the simulator's arbitrage-free base market every one of these edges is negative.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from alc_data.arbitrage_edges import settlement
from alc_data.ib.sim.scenario import Fees, Leg

__all__ = ["PricedLeg", "is_long_box", "settlement_per_share", "strategy_edge"]

SHARES = 100


@dataclass(frozen=True)
class PricedLeg:
    """A leg with its quote."""

    leg: Leg
    bid: float
    ask: float

    @property
    def cash(self) -> float:
        """Per share: the bid received for a sale, minus the ask paid for a purchase."""
        return self.bid if self.leg.side == "SELL" else -self.ask


def is_long_box(legs: Sequence[Leg]) -> bool:
    """True when the box buys its low-strike call."""
    calls = sorted((leg for leg in legs if leg.right == "C"), key=lambda leg: leg.strike or 0.0)
    return bool(calls) and calls[0].side == "BUY"


def settlement_per_share(
    kind: str, legs: Sequence[Leg], *, df: float, pv_dividends: float, european: bool
) -> float:
    """The worst-case present value per share the position settles for (see the module and
    :func:`alc_data.arbitrage_edges.settlement`, which the scanner shares)."""
    strikes = tuple(sorted({leg.strike for leg in legs if leg.strike is not None}))
    return settlement(
        kind, strikes, long_box=is_long_box(legs), df=df, pv_dividends=pv_dividends,
        european=european,
    )  # fmt: skip


def strategy_edge(
    kind: str,
    priced: Sequence[PricedLeg],
    *,
    df: float,
    pv_dividends: float,
    european: bool,
    fees: Fees,
) -> float:
    """Dollars per strategy unit after fees (positive: an arbitrage)."""
    legs = [p.leg for p in priced]
    cash = sum(p.cash for p in priced)
    settle = settlement_per_share(kind, legs, df=df, pv_dividends=pv_dividends, european=european)
    option_legs = sum(1 for leg in legs if not leg.is_stock)
    shares = SHARES if any(leg.is_stock for leg in legs) else 0
    return SHARES * (cash + settle) - fees.of(option_legs, shares)
