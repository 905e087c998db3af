"""What a scanner finds: an opportunity's legs at executable prices, its edge after fees."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any

__all__ = ["STRATEGY_TYPES", "Finding", "FindingLeg"]

#: the ``arbitrage_opportunities.strategy_type`` of each kind
STRATEGY_TYPES = {
    "conversion": "CONVERSION",
    "reversal": "REVERSAL",
    "box": "BOX",
    "calendar": "CALENDAR",
}


@dataclass(frozen=True)
class FindingLeg:
    """One leg: the contract (``contract_id`` None for the stock), the side, the executable
    price (the ask of a purchase, the bid of a sale), its displayed size and quote time."""

    right: str  # C, P or STK
    side: str  # BUY or SELL
    price: float
    size: float
    quote_time: datetime
    contract_id: int | None = None
    ib_con_id: int | None = None
    expiry: date | None = None
    strike: float | None = None

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready mapping."""
        return {
            "right": self.right,
            "side": self.side,
            "price": self.price,
            "size": self.size,
            "quote_time": self.quote_time.isoformat(),
            "contract_id": self.contract_id,
            "ib_con_id": self.ib_con_id,
            "expiry": self.expiry.isoformat() if self.expiry else None,
            "strike": self.strike,
        }


@dataclass(frozen=True)
class Finding:
    """An opportunity seen from ``first_seen`` to ``last_seen`` (one chain state, or several
    in a row with the same legs, merged by :class:`~alc_data.scan.scanner.EpisodeTracker`).

    ``edge`` is dollars per strategy unit (one contract per option leg, 100 shares) after
    ``fees``, at ``first_seen``; ``max_edge`` the largest seen. ``net_credit`` is the cash per
    unit (sales at the bid minus purchases at the ask, before fees, negative for a debit),
    ``settlement`` the worst-case present value per unit of what the position pays at the end.
    ``implied_rate`` is the continuously compounded rate the trade lends (a debit) or borrows
    (a credit) at, fees included (None for a calendar). ``early_exercise_risk``: an American
    short leg can be assigned before expiry (the edge prices its worst case);
    ``ex_dividend_risk``: a dividend goes ex before expiry (``dividend_cost`` dollars per unit
    taken off the edge).
    """

    kind: str
    symbol: str
    underlying_id: int
    first_seen: datetime
    last_seen: datetime
    legs: tuple[FindingLeg, ...]
    edge: float
    max_edge: float
    fees: float
    net_credit: float
    settlement: float
    cost_basis: float
    roi_percent: float
    implied_rate: float | None
    size: float
    years: float
    early_exercise_risk: bool
    ex_dividend_risk: bool
    dividend_cost: float
    stock_price: float | None = None
    states: int = 1

    @property
    def key(self) -> tuple[str, tuple[tuple[int | None, str], ...]]:
        """The kind and the option legs (contract id, side): what identifies an opportunity."""
        options = sorted((leg.contract_id, leg.side) for leg in self.legs if leg.right != "STK")
        return self.kind, tuple(options)

    def seen_again(self, other: Finding) -> Finding:
        """This finding extended to ``other``'s instant (same key)."""
        return replace(
            self, last_seen=other.last_seen, max_edge=max(self.max_edge, other.edge),
            states=self.states + 1,
        )  # fmt: skip

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready mapping (times ISO 8601 UTC)."""
        return {
            "kind": self.kind,
            "symbol": self.symbol,
            "first_seen": self.first_seen.isoformat(),
            "last_seen": self.last_seen.isoformat(),
            "legs": [leg.to_json() for leg in self.legs],
            "edge": round(self.edge, 6),
            "max_edge": round(self.max_edge, 6),
            "fees": self.fees,
            "net_credit": self.net_credit,
            "settlement": self.settlement,
            "cost_basis": self.cost_basis,
            "roi_percent": self.roi_percent,
            "implied_rate": self.implied_rate,
            "size": self.size,
            "early_exercise_risk": self.early_exercise_risk,
            "ex_dividend_risk": self.ex_dividend_risk,
            "dividend_cost": self.dividend_cost,
            "states": self.states,
        }
