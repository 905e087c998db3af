"""Scanning chain states for conversions, reversals, boxes and calendar bound violations.

A :class:`Scanner` takes one :class:`~alc_data.ChainSnapshot` at a time, from
``ArrowReader.replay(..., every=...).snapshots()`` over history or from a live chain
(``OptionChainRepository.chain_snapshot``), and returns what it finds at that instant, on
executable prices: a purchase at the ask, a sale at the bid. The edge of a strategy unit is
``100 * (net_credit + settlement) - fees`` with the settlement of
:func:`alc_data.arbitrage_edges.settlement` (the simulator's planted edges are the same).

A leg qualifies only when it is two-sided (a bid and an ask, both sizes above zero), not
crossed (bid <= ask), and quoted within ``max_skew_ms`` of the strategy's other legs.
Discounting uses ``rate`` over the years from the start of the state's minute to the options'
close on the expiry date (16:15 New York for ``late_close_symbols``, else 16:00; 365-day
years). Dividends (ex-date, amount) of a symbol going ex after the instant and up to the
expiry are discounted at ``rate`` and owed by short stock (reversals, the short box's worst
case).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import NamedTuple

import numpy as np

from alc_data import exchange_calendar as cal
from alc_data.arbitrage_edges import KINDS, settlement
from alc_data.db.rows import ChainSnapshot, ContractQuote
from alc_data.errors import ConfigError
from alc_data.scan.fees import DEFAULT_FEES, FeeModel
from alc_data.scan.findings import Finding, FindingLeg

__all__ = [
    "EpisodeTracker",
    "Instant",
    "Quote",
    "ScanConfig",
    "Scanner",
    "option_quote",
    "stock_quote",
]

SHARES = 100
_YEAR = 365.0 * 86_400.0


@dataclass(frozen=True)
class ScanConfig:
    """What a scan looks for and how it prices it.

    Args:
        kinds: the kinds to look for (conversion, reversal, box, calendar).
        min_edge: dollars per strategy unit after fees a finding must reach (at least).
        min_size: the smallest displayed size across the option legs (contracts; the stock
            leg must show a size above zero).
        max_skew_ms: the legs' quote times must lie within this many milliseconds.
        fees: the fee model (:data:`~alc_data.scan.fees.DEFAULT_FEES`).
        rate: the continuously compounded risk-free rate settlements are discounted at.
        late_close_symbols: underlyings whose options trade until 16:15 New York.
        european_symbols: underlyings with European (cash-settled index) options.
        dividends: per symbol, the (ex-date, amount per share) of its cash dividends.
    """

    kinds: tuple[str, ...] = KINDS
    min_edge: float = 0.0
    min_size: float = 1.0
    max_skew_ms: float = 1000.0
    fees: FeeModel = DEFAULT_FEES
    rate: float = 0.04
    late_close_symbols: frozenset[str] = frozenset({"SPY", "QQQ", "IWM", "SPX", "NDX", "RUT"})
    european_symbols: frozenset[str] = frozenset({"SPX", "NDX", "RUT", "XSP"})
    dividends: Mapping[str, Sequence[tuple[date, float]]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        unknown = [k for k in self.kinds if k not in KINDS]
        if unknown or not self.kinds:
            raise ConfigError(f"kinds must be among {', '.join(KINDS)}, got {list(self.kinds)}")
        for name in ("min_size", "max_skew_ms"):
            value = getattr(self, name)
            if not math.isfinite(value) or value < 0:
                raise ConfigError(f"{name} must be a non-negative number, got {value}")
        if not math.isfinite(self.min_edge) or not math.isfinite(self.rate):
            raise ConfigError("min_edge and rate must be finite numbers")

    def parameters(self) -> dict[str, object]:
        """The settings as JSON (what a backtest run records)."""
        return {
            "kinds": list(self.kinds),
            "min_edge": self.min_edge,
            "min_size": self.min_size,
            "max_skew_ms": self.max_skew_ms,
            "fees": self.fees.to_json(),
            "rate": self.rate,
        }


@dataclass(frozen=True, slots=True)
class Quote:
    """A two-sided, uncrossed quote (the only kind a leg is priced from): build it with
    :func:`option_quote` or :func:`stock_quote`."""

    right: str
    bid: float
    ask: float
    bid_size: float
    ask_size: float
    time: datetime
    contract_id: int | None = None
    ib_con_id: int | None = None
    expiry: date | None = None
    strike: float | None = None

    def leg(self, side: str) -> FindingLeg:
        buy = side == "BUY"
        price, size = (self.ask, self.ask_size) if buy else (self.bid, self.bid_size)
        return FindingLeg(
            self.right, side, price, size, self.time,
            self.contract_id, self.ib_con_id, self.expiry, self.strike,
        )  # fmt: skip


class Instant(NamedTuple):
    """The chain state's instant and underlying."""

    symbol: str
    underlying_id: int
    as_of: datetime
    stock_price: float | None = None


def stock_quote(
    bid: float | None, ask: float | None, bid_size: float | None, ask_size: float | None,
    at: datetime,
) -> Quote | None:  # fmt: skip
    """The stock leg's quote, or None when it does not qualify."""
    if not _two_sided(bid, ask, bid_size, ask_size):
        return None
    assert bid is not None and ask is not None
    return Quote("STK", bid, ask, float(bid_size or 0), float(ask_size or 0), at)


def option_quote(
    contract_id: int, ib_con_id: int | None, expiry: date, strike: float, right: str,
    bid: float | None, ask: float | None, bid_size: float | None, ask_size: float | None,
    at: datetime | None,
) -> Quote | None:  # fmt: skip
    """An option leg's quote, or None when it does not qualify (one-sided, crossed...)."""
    if at is None or not _two_sided(bid, ask, bid_size, ask_size):
        return None
    assert bid is not None and ask is not None
    return Quote(right, bid, ask, float(bid_size or 0), float(ask_size or 0), at,
                 contract_id, ib_con_id, expiry, strike)  # fmt: skip


def _two_sided(
    bid: float | None, ask: float | None, bid_size: float | None, ask_size: float | None
) -> bool:
    return (
        bid is not None and ask is not None and bid_size is not None and ask_size is not None
        and bid > 0 and ask > 0 and bid_size > 0 and ask_size > 0 and bid <= ask
        and math.isfinite(bid) and math.isfinite(ask)
    )  # fmt: skip


def _option(q: ContractQuote) -> Quote | None:
    return option_quote(
        q.contract_id, q.ib_con_id, q.expiration_date, float(q.strike_price), q.option_type,
        q.bid_price, q.ask_price, q.bid_size, q.ask_size, q.time,
    )  # fmt: skip


class Scanner:
    """Finds the opportunities of one chain state (see the module docstring)."""

    def __init__(self, config: ScanConfig | None = None) -> None:
        self.config = config or ScanConfig()
        self._expiry_at: dict[tuple[str, date], datetime] = {}

    # --- the instant's terms ---------------------------------------------------------------

    def expires_at(self, symbol: str, expiry: date) -> datetime:
        """The options' last trading instant on ``expiry`` (UTC)."""
        key = (symbol, expiry)
        at = self._expiry_at.get(key)
        if at is None:
            late = symbol in self.config.late_close_symbols
            hours = cal.option_session(expiry, late_close=late)
            if hours is not None:
                at = hours[1].astimezone(UTC)
            else:
                close = time(16, 15) if late else time(16, 0)
                at = datetime.combine(expiry, close, cal.EXCHANGE_TZ).astimezone(UTC)
            self._expiry_at[key] = at
        return at

    def years(self, symbol: str, expiry: date, as_of: datetime) -> float:
        """Years (365 days) from the start of ``as_of``'s minute to the expiry's close."""
        minute = math.floor(as_of.timestamp() / 60.0) * 60.0
        return max(self.expires_at(symbol, expiry).timestamp() - minute, 0.0) / _YEAR

    def pv_dividends(self, symbol: str, expiry: date, as_of: datetime) -> float:
        """The present value of the dividends going ex after ``as_of``, up to the expiry."""
        end = self.expires_at(symbol, expiry)
        total = 0.0
        for ex_date, amount in self.config.dividends.get(symbol, ()):
            ex_at = datetime.combine(ex_date, time(0), cal.EXCHANGE_TZ).astimezone(UTC)
            if as_of < ex_at <= end:
                years = (ex_at - as_of).total_seconds() / _YEAR
                total += amount * math.exp(-self.config.rate * years)
        return total

    # --- scanning --------------------------------------------------------------------------

    def scan(self, snapshot: ChainSnapshot) -> list[Finding]:
        """Every opportunity of the state at ``snapshot.as_of`` reaching the minimum edge and
        size, in the order conversions, reversals, boxes, calendars."""
        u = snapshot.underlying
        stock = None
        if u is not None:
            stock = stock_quote(u.bid_price, u.ask_price, u.bid_size, u.ask_size, u.time)
        instant = Instant(snapshot.symbol, snapshot.underlying_id, snapshot.as_of,
                          u.price if u is not None else None)  # fmt: skip
        return self.scan_quotes(instant, (_option(q) for q in snapshot.quotes), stock)

    def scan_quotes(
        self, at: Instant, options: Iterable[Quote | None], stock: Quote | None
    ) -> list[Finding]:
        """:meth:`scan` on already qualified quotes (None: a contract that does not)."""
        chain: dict[date, dict[tuple[float, str], Quote]] = {}
        for quote in options:
            if quote is not None:
                assert quote.expiry is not None and quote.strike is not None
                chain.setdefault(quote.expiry, {})[(quote.strike, quote.right)] = quote
        found: list[Finding] = []
        kinds = self.config.kinds
        expiries = sorted(chain)
        for expiry in expiries:
            legs = chain[expiry]
            if stock is not None and ("conversion" in kinds or "reversal" in kinds):
                found.extend(self._synthetics(at, expiry, legs, stock))
            if "box" in kinds:
                found.extend(self._boxes(at, expiry, legs))
        if "calendar" in kinds:
            for i, near in enumerate(expiries):
                for far in expiries[i + 1 :]:
                    found.extend(self._calendars(at, near, far, chain[near], chain[far]))
        order = {k: n for n, k in enumerate(KINDS)}
        found.sort(key=lambda f: order[f.kind])
        return found

    def _synthetics(
        self, snap: Instant, expiry: date, legs: dict[tuple[float, str], Quote],
        stock: Quote,
    ) -> Iterable[Finding]:  # fmt: skip
        years = self.years(snap.symbol, expiry, snap.as_of)
        df = math.exp(-self.config.rate * years)
        pv = self.pv_dividends(snap.symbol, expiry, snap.as_of)
        european = snap.symbol in self.config.european_symbols
        fees = self.config.fees.of(2, SHARES)
        floor = self.config.min_edge - 1e-9  # a cheap test first; _priced decides exactly
        for (strike, right), call in legs.items():
            put = legs.get((strike, "P")) if right == "C" else None
            if put is None:
                continue
            conversion = SHARES * (call.bid - put.ask - stock.ask + strike * df) - fees
            if "conversion" in self.config.kinds and conversion >= floor:
                sides = ((stock, "BUY"), (put, "BUY"), (call, "SELL"))
                yield from self._priced("conversion", snap, sides, (strike,), False, df, pv,
                                        european, years)  # fmt: skip
            reversal = SHARES * (stock.bid + put.bid - call.ask - strike - pv) - fees
            if "reversal" in self.config.kinds and reversal >= floor:
                sides = ((stock, "SELL"), (put, "SELL"), (call, "BUY"))
                yield from self._priced("reversal", snap, sides, (strike,), False, df, pv,
                                        european, years)  # fmt: skip

    def _boxes(
        self, snap: Instant, expiry: date, legs: dict[tuple[float, str], Quote]
    ) -> Iterable[Finding]:
        strikes = sorted(k for (k, r) in legs if r == "C" and (k, "P") in legs)
        if len(strikes) < 2:
            return
        years = self.years(snap.symbol, expiry, snap.as_of)
        df = math.exp(-self.config.rate * years)
        pv = self.pv_dividends(snap.symbol, expiry, snap.as_of)
        european = snap.symbol in self.config.european_symbols
        calls = [legs[(k, "C")] for k in strikes]
        puts = [legs[(k, "P")] for k in strikes]
        k = np.array(strikes)
        cb, ca = np.array([c.bid for c in calls]), np.array([c.ask for c in calls])
        pb, pa = np.array([p.bid for p in puts]), np.array([p.ask for p in puts])
        width = k[None, :] - k[:, None]  # [low, high]
        fees = self.config.fees.of(4, 0)
        # long box: buy the low call and the high put, sell the high call and the low put
        long_cash = cb[None, :] + pb[:, None] - ca[:, None] - pa[None, :]
        long_edge = SHARES * (long_cash + width * df) - fees
        # short box: sell the low call and the high put, buy the high call and the low put
        short_cash = cb[:, None] + pb[None, :] - ca[None, :] - pa[:, None]
        worst = width * df if european else width + np.maximum(k[:, None] * (1.0 - df), pv)
        short_settle = -worst
        short_edge = SHARES * (short_cash + short_settle) - fees
        upper = width > 0
        tolerance = 1e-9  # the exact check below decides
        for long_box, edges in ((True, long_edge), (False, short_edge)):
            for i, j in zip(*np.nonzero(upper & (edges >= self.config.min_edge - tolerance)),
                            strict=True):  # fmt: skip
                lo, hi = int(i), int(j)
                buy, sell = ("BUY", "SELL") if long_box else ("SELL", "BUY")
                sides = ((calls[lo], buy), (calls[hi], sell), (puts[hi], buy), (puts[lo], sell))
                yield from self._priced("box", snap, sides, (strikes[lo], strikes[hi]),
                                        long_box, df, pv, european, years)  # fmt: skip

    def _calendars(
        self, snap: Instant, near: date, far: date,
        near_legs: dict[tuple[float, str], Quote], far_legs: dict[tuple[float, str], Quote],
    ) -> Iterable[Finding]:  # fmt: skip
        european = snap.symbol in self.config.european_symbols
        years = self.years(snap.symbol, near, snap.as_of)
        fees = self.config.fees.of(2, 0)
        for key, sold in near_legs.items():
            bought = far_legs.get(key)
            if bought is None or (european and key[1] == "P"):
                continue  # a European put may be worth less far out: no bound
            if SHARES * (sold.bid - bought.ask) - fees < self.config.min_edge - 1e-9:
                continue
            sides = ((sold, "SELL"), (bought, "BUY"))
            yield from self._priced("calendar", snap, sides, (key[0],), False, 1.0, 0.0,
                                    european, years)  # fmt: skip

    def _priced(
        self, kind: str, snap: Instant, sides: Sequence[tuple[Quote, str]],
        strikes: tuple[float, ...], long_box: bool, df: float, pv: float, european: bool,
        years: float,
    ) -> Iterable[Finding]:  # fmt: skip
        times = [q.time for q, _ in sides]
        if (max(times) - min(times)) > timedelta(milliseconds=self.config.max_skew_ms):
            return
        legs = tuple(q.leg(side) for q, side in sides)
        option_sizes = [leg.size for leg in legs if leg.right != "STK"]
        size = min(option_sizes)
        if size < self.config.min_size:
            return
        cash = sum(leg.price if leg.side == "SELL" else -leg.price for leg in legs)
        settle = settlement(kind, strikes, long_box=long_box, df=df, pv_dividends=pv,
                            european=european)  # fmt: skip
        has_stock = any(leg.right == "STK" for leg in legs)
        fees = self.config.fees.of(len(option_sizes), SHARES if has_stock else 0)
        edge = SHARES * (cash + settle) - fees
        if edge < self.config.min_edge:
            return
        net_credit = SHARES * cash
        cost_basis = max(abs(net_credit), fees)
        roi = 100.0 * edge / cost_basis if cost_basis > 0 else 0.0
        implied = _implied_rate(kind, strikes, net_credit, fees, years)
        short_box = kind == "box" and not long_box
        dividend_cost = SHARES * pv if kind == "reversal" or short_box else 0.0
        early = not european and any(leg.side == "SELL" for leg in legs if leg.right != "STK")
        stock_price = next((leg.price for leg in legs if leg.right == "STK"), None)
        if stock_price is None:
            stock_price = snap.stock_price
        yield Finding(
            kind, snap.symbol, snap.underlying_id, snap.as_of, snap.as_of, legs, edge, edge,
            fees, net_credit, SHARES * settle, cost_basis, roi, implied, size, years, early,
            pv > 0, dividend_cost, stock_price,
        )  # fmt: skip


def _implied_rate(
    kind: str, strikes: tuple[float, ...], net_credit: float, fees: float, years: float
) -> float | None:
    """The rate the trade lends at (a debit repaid at expiry) or borrows at (a credit owed)."""
    if kind == "calendar" or years <= 0:
        return None
    owed = SHARES * (max(strikes) - min(strikes) if kind == "box" else strikes[0])
    now = -net_credit + fees if net_credit < 0 else net_credit - fees
    if now <= 0 or owed <= 0:
        return None
    return math.log(owed / now) / years


class EpisodeTracker:
    """Merges the findings of consecutive states with the same legs into one finding each
    (its ``first_seen`` .. ``last_seen``); a finding absent from a state ends its episode."""

    def __init__(self) -> None:
        self._open: dict[tuple[str, tuple[tuple[int | None, str], ...]], Finding] = {}

    def feed(self, findings: Sequence[Finding]) -> list[Finding]:
        """One state's findings; returns the episodes that ended before this state."""
        seen: dict[tuple[str, tuple[tuple[int | None, str], ...]], Finding] = {}
        for f in findings:
            before = self._open.get(f.key) or seen.get(f.key)
            seen[f.key] = before.seen_again(f) if before is not None else f
        ended = [f for key, f in self._open.items() if key not in seen]
        self._open = seen
        return ended

    def finish(self) -> list[Finding]:
        """The episodes still open (the stream ended)."""
        ended, self._open = list(self._open.values()), {}
        return ended
