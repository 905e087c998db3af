"""Planted opportunities: known arbitrages put into the arbitrage-free market, as ground truth.

A :class:`Planter` resolves a :class:`~alc_data.ib.sim.scenario.Scenario` against the model's
listings and, while an entry's window is open, moves its legs' quotes: the sold call of a
conversion, the sold put of a reversal, all four legs of a box (each a quarter of the move, sold
legs up and bought legs down: a sibling sharing one or two of them gets at most half), the sold
near option of a calendar. Bid and ask move together (the width stays), by exactly what makes
the entry's edge (:mod:`alc_data.ib.sim.edges`) equal its stated edge at every instant of the
window: the move is recomputed per quote, as the underlying and the discounting move, and is
quoted to 1/1000 of a cent so that the edge holds to the cent. Outside
the windows, and on every other contract, the quotes are the model's.

Before planting, every window is checked at instants through it: no other conversion, reversal,
box or calendar the market lists that trades a moved leg the way its move favours may show a
positive edge (a conversion that also creates a box is rejected, as is an entry sharing a
contract with another entry whose window overlaps), or, with ``implied="list"``, those are
planted too and listed as implied. The check samples the window (its start, its end and five
instants between); the moves follow the market between samples. In a market as tight as the
simulator's, a conversion at K and a box (K1, K) share the synthetic at K, so only small edges
plant without siblings: the error names the sibling and its edge.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, date, datetime

from alc_data import exchange_calendar as cal
from alc_data.errors import ScenarioError
from alc_data.ib.sim.core import Quote
from alc_data.ib.sim.edges import PricedLeg, strategy_edge
from alc_data.ib.sim.instruments import OptionSpec, UnderlyingSpec, underlying_by_symbol
from alc_data.ib.sim.model import QuoteModel
from alc_data.ib.sim.scenario import Fees, Leg, PlannedEntry, Scenario
from alc_data.ib.sim.strategies import Instrument, Pair, strategies_trading

__all__ = ["PlantedLeg", "PlantedOpportunity", "Planter"]

_PRICE_DECIMALS = 5
_SAMPLES = 6


@dataclass(frozen=True)
class PlantedLeg:
    """One leg of a planted opportunity, by contract id."""

    con_id: int
    local_symbol: str
    right: str  # C, P or STK
    side: str
    expiry: date | None
    strike: float | None
    moved: bool

    def to_json(self) -> dict[str, object]:
        """A JSON-ready mapping."""
        return {
            "con_id": self.con_id,
            "local_symbol": self.local_symbol,
            "sec_type": "STK" if self.right == "STK" else "OPT",
            "right": self.right,
            "side": self.side,
            "expiry": self.expiry.isoformat() if self.expiry else None,
            "strike": self.strike,
            "moved": self.moved,
        }


@dataclass(frozen=True)
class PlantedOpportunity:
    """What was planted: the ground truth a scanner is scored against."""

    id: str
    kind: str
    symbol: str
    legs: tuple[PlantedLeg, ...]
    start: datetime
    end: datetime
    edge: float
    fees: Fees
    #: the planted entry whose move also creates this one (None: listed in the file)
    implied_by: str | None = None

    def to_json(self) -> dict[str, object]:
        """A JSON-ready mapping (times in ISO 8601 UTC)."""
        return {
            "id": self.id,
            "kind": self.kind,
            "symbol": self.symbol,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "edge": self.edge,
            "fees": {"per_contract": self.fees.per_contract, "per_share": self.fees.per_share},
            "legs": [leg.to_json() for leg in self.legs],
            "implied_by": self.implied_by,
        }


@dataclass(frozen=True)
class _Resolved:
    entry: PlannedEntry
    start: datetime
    end: datetime
    legs: tuple[tuple[Leg, Instrument], ...]
    moved: tuple[tuple[OptionSpec, float], ...]

    @property
    def con_ids(self) -> frozenset[int]:
        return frozenset(spec.con_id for _, spec in self.legs)

    @property
    def option_ids(self) -> frozenset[int]:
        return frozenset(spec.con_id for _, spec in self.legs if isinstance(spec, OptionSpec))

    def active(self, ts: float) -> bool:
        return self.start.timestamp() <= ts < self.end.timestamp()


class Planter:
    """Plants a scenario's opportunities into a model's quotes (see the module docstring).

    Args:
        model: the market (its quotes get the planted moves once :meth:`attach` is called).
        scenario: what to plant.
        server_start: what entries with an offset start count from.
        check: look, at instants through every window, for opportunities the file does not
            list that a planted move creates (siblings sharing a moved leg).
        implied: what to do with such an opportunity: "reject" the scenario (the default), or
            "list" it in :meth:`planted` (with ``implied_by``, the largest edge seen) and plant.

    Raises:
        ScenarioError: for unknown contracts, legs not listed in the window, or interactions.
    """

    def __init__(
        self,
        model: QuoteModel,
        scenario: Scenario,
        server_start: datetime,
        *,
        check: bool = True,
        implied: str = "reject",
    ) -> None:
        if implied not in {"reject", "list"}:
            raise ValueError(f"implied must be 'reject' or 'list', got {implied!r}")
        self.implied = implied
        self._implied: dict[tuple[str, frozenset[int]], tuple[_Resolved, tuple[Pair, ...], float]]
        self._implied = {}
        self._last_stock: tuple[tuple[int, datetime], Quote] | None = None
        self.model = model
        self.scenario = scenario
        self.server_start = server_start.astimezone(UTC)
        self._entries = [self._resolve(e) for e in scenario.entries]
        self._by_moved: dict[int, list[_Resolved]] = {}
        for r in self._entries:
            for spec, _ in r.moved:
                self._by_moved.setdefault(spec.con_id, []).append(r)
        self._check_overlaps()
        if check:
            for r in self._entries:
                self._check_interactions(r)

    def attach(self) -> None:
        """Make the model's quotes show the planted opportunities."""
        self.model.planter = self

    # --- resolution ----------------------------------------------------------------------

    def _resolve(self, entry: PlannedEntry) -> _Resolved:
        start, end = entry.window(self.server_start)
        where = f"opportunity {entry.id}"
        spec = underlying_by_symbol(entry.symbol)
        if spec is None:
            raise ScenarioError(f"{where}: unknown symbol {entry.symbol!r}")
        if spec.is_index and entry.kind in {"conversion", "reversal"}:
            raise ScenarioError(f"{where}: {spec.symbol} is an index: it has no stock leg")
        legs: list[tuple[Leg, Instrument]] = []
        for leg in entry.legs:
            if leg.is_stock:
                legs.append((leg, spec))
                continue
            assert leg.expiry is not None and leg.strike is not None
            option = self.model.option(spec.symbol, leg.expiry, leg.strike, leg.right)
            first_day = start.astimezone(cal.EXCHANGE_TZ).date()
            if option is None or self.model.listed_on(option) > first_day:
                raise ScenarioError(
                    f"{where}: {spec.symbol} {leg.expiry} {leg.strike:g} {leg.right} is not "
                    f"listed on {first_day}"
                )
            if end > option.expires_at:
                raise ScenarioError(f"{where}: {option.local_symbol} expires inside the window")
            legs.append((leg, option))
        if entry.kind == "calendar" and spec.is_index and entry.legs[0].right == "P":
            raise ScenarioError(
                f"{where}: a European put calendar is not an arbitrage (a far put may be worth "
                "less than a near one); use calls or an American underlying"
            )
        return _Resolved(entry, start, end, tuple(legs), _moved_legs(entry.kind, legs))

    def _check_overlaps(self) -> None:
        for i, a in enumerate(self._entries):
            for b in self._entries[i + 1 :]:
                if a.start < b.end and b.start < a.end and a.option_ids & b.option_ids:
                    raise ScenarioError(
                        f"opportunities {a.entry.id} and {b.entry.id} share an option while "
                        "both are planted: they would interact"
                    )

    # --- quotes --------------------------------------------------------------------------

    def shift(self, con_id: int, ts: float) -> float:
        """How far ``con_id``'s bid and ask are moved at epoch second ``ts`` (0: not at all)."""
        for r in self._by_moved.get(con_id, ()):
            if r.active(ts):
                base = self._edge(r.entry.kind, r.legs, ts, shifted=False)
                weight = next(w for spec, w in r.moved if spec.con_id == con_id)
                return round(weight * (r.entry.edge - base) / 100.0, _PRICE_DECIMALS)
        return 0.0

    def bid_ask(self, option: OptionSpec, ts: float) -> tuple[float, float]:
        """The option's quoted bid and ask at ``ts``, planted moves included."""
        m = self.model.market_at(option, ts)
        d = self.shift(option.con_id, ts)
        if not d:
            return m.bid, m.ask
        bid = max(0.0, round(m.bid + d, _PRICE_DECIMALS))
        return bid, max(round(m.ask + d, _PRICE_DECIMALS), round(bid + m.tick, _PRICE_DECIMALS))

    def _edge(
        self, kind: str, legs: tuple[tuple[Leg, Instrument], ...], ts: float, *, shifted: bool
    ) -> float:
        at = datetime.fromtimestamp(ts, UTC)
        priced = []
        options = [spec for _, spec in legs if isinstance(spec, OptionSpec)]
        for leg, spec in legs:
            if isinstance(spec, UnderlyingSpec):
                q = self._stock_quote(spec, at)
                assert q.bid is not None and q.ask is not None
                priced.append(PricedLeg(leg, q.bid, q.ask))
            elif shifted:
                priced.append(PricedLeg(leg, *self.bid_ask(spec, ts)))
            else:
                m = self.model.market_at(spec, ts)
                priced.append(PricedLeg(leg, m.bid, m.ask))
        near = min(options, key=lambda o: o.expiry)
        df = math.exp(-self.model.rate * self.model.time_to_expiry(near, at))
        pv = self.model.market_at(near, ts).greeks.pv_dividend
        return strategy_edge(
            kind, priced, df=df, pv_dividends=pv, european=near.european, fees=self.scenario.fees
        )

    def _stock_quote(self, spec: UnderlyingSpec, at: datetime) -> Quote:
        key = (spec.con_id, at)
        if self._last_stock is None or self._last_stock[0] != key:
            self._last_stock = (key, self.model.quote(spec.con_id, at))
        return self._last_stock[1]

    def edge_at(self, entry_id: str, at: datetime) -> float:
        """The edge entry ``entry_id`` shows in the quotes at ``at`` (what a scanner sees)."""
        for r in self._entries:
            if r.entry.id == entry_id:
                return self._edge(r.entry.kind, r.legs, at.timestamp(), shifted=True)
        raise KeyError(entry_id)

    # --- ground truth --------------------------------------------------------------------

    def planted(
        self, start: datetime | None = None, end: datetime | None = None
    ) -> list[PlantedOpportunity]:
        """The opportunities planted at some instant of [start, end) (default: all)."""
        found = []
        for r in self._entries:
            if (end is not None and r.start >= end) or (start is not None and r.end <= start):
                continue
            moved = {spec.con_id for spec, _ in r.moved}
            legs = tuple(_planted_leg(leg, spec, spec.con_id in moved) for leg, spec in r.legs)
            e = r.entry
            found.append(
                PlantedOpportunity(
                    e.id, e.kind, e.symbol, legs, r.start, r.end, e.edge, self.scenario.fees
                )
            )
        for n, (kind, _) in enumerate(sorted(self._implied, key=lambda k: (k[0], sorted(k[1])))):
            r, pairs, edge = self._implied[(kind, _)]
            if (end is not None and r.start >= end) or (start is not None and r.end <= start):
                continue
            legs = tuple(_planted_leg(leg, spec, False) for leg, spec in pairs)
            found.append(
                PlantedOpportunity(
                    f"{r.entry.id}/implied-{n + 1}",
                    kind,
                    r.entry.symbol,
                    legs,
                    r.start,
                    r.end,
                    round(edge, 2),
                    self.scenario.fees,
                    implied_by=r.entry.id,
                )
            )
        return sorted(found, key=lambda p: (p.start, p.implied_by or "", p.id))

    # --- the interaction check -----------------------------------------------------------

    def _siblings(self, r: _Resolved, ts: float) -> list[tuple[str, tuple[Pair, ...]]]:
        """The other strategies that trade a moved leg the way the move favours."""
        found = []
        for spec, weight in r.moved:
            found += self.combinations(spec, "SELL" if weight > 0 else "BUY", ts)
        return found

    def _check_interactions(self, r: _Resolved) -> None:
        span = (r.end - r.start).total_seconds()
        step = max(span / _SAMPLES, 1.0)
        instants = [r.start.timestamp() + k * step for k in range(_SAMPLES) if k * step < span]
        instants.append(r.end.timestamp() - 0.001)
        listed = {(e.entry.kind, e.con_ids) for e in self._entries}
        for ts in instants:
            own = self._edge(r.entry.kind, r.legs, ts, shifted=True)
            if abs(own - r.entry.edge) > 0.005:
                raise ScenarioError(
                    f"opportunity {r.entry.id} cannot show edge {r.entry.edge:.2f} at "
                    f"{datetime.fromtimestamp(ts, UTC).isoformat()} (a quote would leave zero)"
                )
            for kind, legs in self._siblings(r, ts):
                key = (kind, frozenset(spec.con_id for _, spec in legs))
                if key in listed:
                    continue
                edge = self._edge(kind, legs, ts, shifted=True)
                if edge > 0.0:
                    self._implied_found(r, kind, legs, edge, ts)

    def _implied_found(
        self, r: _Resolved, kind: str, legs: tuple[Pair, ...], edge: float, ts: float
    ) -> None:
        when = datetime.fromtimestamp(ts, UTC).isoformat()
        names = ", ".join(
            f"{leg.side.lower()} {getattr(spec, 'local_symbol', spec.symbol)}" for leg, spec in legs
        )
        if self.implied == "reject":
            raise ScenarioError(
                f"opportunity {r.entry.id} would also create a {kind} ({names}) with edge "
                f"{edge:.2f} at {when}: plant a smaller edge or other legs (in a tight market a "
                "conversion's synthetic is a box's too), or list implied opportunities"
            )
        key = (kind, frozenset(spec.con_id for _, spec in legs))
        seen = self._implied.get(key)
        if seen is None or edge > seen[2]:
            self._implied[key] = (r, legs, edge)

    def combinations(
        self, x: OptionSpec, side: str, ts: float
    ) -> list[tuple[str, tuple[Pair, ...]]]:
        """Every listed conversion, reversal, box and calendar that trades ``x`` on ``side``."""
        return strategies_trading(self.model, x, side, ts)

    def combination_edge(self, kind: str, legs: tuple[Pair, ...], ts: float) -> float:
        """The edge of any combination at ``ts`` in the quotes as planted."""
        return self._edge(kind, legs, ts, shifted=True)


def _planted_leg(leg: Leg, spec: Instrument, moved: bool) -> PlantedLeg:
    name = spec.local_symbol if isinstance(spec, OptionSpec) else spec.symbol
    return PlantedLeg(spec.con_id, name, leg.right, leg.side, leg.expiry, leg.strike, moved)


def _moved_legs(kind: str, legs: list[Pair]) -> tuple[tuple[OptionSpec, float], ...]:
    """The options whose quotes a planted entry moves, each with its signed share of the move
    (up for a sold leg, down for a bought one; the shares add up to one)."""
    options = [(leg, spec) for leg, spec in legs if isinstance(spec, OptionSpec)]
    sign = {"SELL": 1.0, "BUY": -1.0}
    if kind == "conversion":
        chosen = [(spec, 1.0) for leg, spec in options if leg.right == "C"]
    elif kind == "reversal":
        chosen = [(spec, 1.0) for leg, spec in options if leg.right == "P"]
    elif kind == "box":
        chosen = [(spec, sign[leg.side] / 4.0) for leg, spec in options]
    else:  # a calendar: the far leg may be quoted at a cent, so only the near one moves
        chosen = [(spec, 1.0) for leg, spec in options if leg.side == "SELL"]
    return tuple(chosen)
