"""The simulated options market: a deterministic, seeded model the server streams from.

Tests query the same object the server uses, so ``model.quote(con_id, at)`` is exactly what a
subscribed client sees at ``at`` and ``model.bars(...)`` exactly what a history request returns.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache

from alc_data import exchange_calendar as cal
from alc_data.ib.sim import instruments as ins
from alc_data.ib.sim.clock import SimClock
from alc_data.ib.sim.instruments import OptionSpec, UnderlyingSpec
from alc_data.ib.sim.paths import EPOCH_TS, UnderlyingPath
from alc_data.ib.sim.pricing import Greeks, bs_greeks

__all__ = ["Bar", "MarketModel", "Quote"]

_YEAR = 365.0 * 86_400.0
_MASK = (1 << 64) - 1


def _mix(*parts: int) -> int:
    """A deterministic 64-bit hash (splitmix64 over the parts)."""
    h = 0x9E3779B97F4A7C15
    for p in parts:
        h = (h ^ (p & _MASK)) * 0xBF58476D1CE4E5B9 & _MASK
        h = (h ^ (h >> 31)) * 0x94D049BB133111EB & _MASK
        h ^= h >> 29
    return h


def _floor_tick(x: float, tick: float) -> float:
    return round(math.floor(x / tick + 1e-9) * tick, 2)


def _ceil_tick(x: float, tick: float) -> float:
    return round(math.ceil(x / tick - 1e-9) * tick, 2)


@dataclass(frozen=True, slots=True)
class Quote:
    """Everything a market-data subscription shows for one contract at one instant.

    ``bid``/``ask`` are None for an index; ``open_interest`` is None for underlyings. Greeks
    are None for underlyings; a side's greeks are None when that side has no positive price.
    """

    con_id: int
    time: datetime
    bid: float | None
    ask: float | None
    bid_size: int
    ask_size: int
    last: float
    last_size: int
    volume: int
    close: float
    open_interest: int | None
    implied_vol: float
    hist_vol: float | None
    und_price: float
    greeks: Greeks | None = None
    bid_greeks: Greeks | None = None
    ask_greeks: Greeks | None = None

    @property
    def mid(self) -> float | None:
        """The midpoint, when both sides exist."""
        if self.bid is None or self.ask is None:
            return None
        return (self.bid + self.ask) / 2.0


@dataclass(frozen=True, slots=True)
class Bar:
    """One history bar as IB sends it (``time`` is the bar's start, UTC)."""

    time: datetime
    open: float
    high: float
    low: float
    close: float
    volume: float
    wap: float
    bar_count: int


class MarketModel:
    """A seeded market of several underlyings and their listed options.

    Args:
        seed: the same seed always gives the same prices.
        calendar: follow the NYSE calendar (quotes and bars only in regular sessions);
            by default the market never closes.
        history_days: how far back history reaches from the clock's now.
        rate: the continuously compounded risk-free rate used for pricing.
        quote_period: seconds between changes of sizes and trades (the quote "heartbeat").
        clock: the clock shared with the server (real time unless frozen).
    """

    def __init__(
        self,
        seed: int = 1,
        *,
        calendar: bool = False,
        history_days: int = 730,
        rate: float = 0.045,
        quote_period: float = 0.25,
        clock: SimClock | None = None,
    ) -> None:
        self.seed = seed
        self.calendar = calendar
        self.history_days = history_days
        self.rate = rate
        self.quote_period = quote_period
        self.clock = clock or SimClock()
        self._paths = {u.symbol: UnderlyingPath(u, seed) for u in ins.UNDERLYINGS}
        self._strikes: dict[tuple[str, date], list[float]] = {}
        self._memo: dict[tuple[int, str, float], float] = {}

    # --- instruments -------------------------------------------------------------------------

    @property
    def underlyings(self) -> tuple[UnderlyingSpec, ...]:
        """The simulated stocks and index."""
        return ins.UNDERLYINGS

    def path(self, symbol: str) -> UnderlyingPath:
        """The price path of an underlying."""
        return self._paths[symbol]

    def now(self) -> datetime:
        """The clock's current time."""
        return self.clock.now()

    def expirations(self, symbol: str, on: date | None = None) -> list[date]:
        """The expirations of ``symbol`` trading on ``on`` (default: today, New York)."""
        day = on or self.now().astimezone(cal.EXCHANGE_TZ).date()
        return ins.expirations_listed(day)

    def strikes(self, symbol: str, expiry: date) -> list[float]:
        """The strikes listed for one expiration (fixed on its listing date)."""
        key = (symbol, expiry)
        if key not in self._strikes:
            spec = self._paths[symbol].spec
            listed = ins.listing_date(expiry)
            center = self._paths[symbol].daily_price(_day_index(listed))
            self._strikes[key] = ins.strikes_for(spec, center, expiry)
        return self._strikes[key]

    def option(self, symbol: str, expiry: date, strike: float, right: str) -> OptionSpec | None:
        """The option with these terms if it is (or was) listed."""
        spec = ins.underlying_by_symbol(symbol)
        if spec is None or not ins.is_expiration(expiry) or strike not in self.strikes(
            spec.symbol, expiry
        ):
            return None
        return OptionSpec(spec, expiry, strike, right.upper()[:1])

    def contract(self, con_id: int) -> UnderlyingSpec | OptionSpec | None:
        """Decode any contract id (expired options included)."""
        return ins.underlying_by_con_id(con_id) or ins.decode_option_con_id(
            con_id, lambda u, e: self.strikes(u.symbol, e)
        )

    def is_expired(self, option: OptionSpec, at: datetime | None = None) -> bool:
        """True once the option's last trading moment has passed."""
        return (at or self.now()) >= option.expires_at

    def is_open(self, at: datetime) -> bool:
        """True when the market trades at ``at`` (always, unless following the calendar)."""
        return cal.is_open(at) if self.calendar else True

    def last_close(self, at: datetime) -> datetime:
        """The end of the last regular session at or before ``at``."""
        day = at.astimezone(cal.EXCHANGE_TZ).date()
        hours = cal.session(day)
        if hours is not None and hours[1] <= at:
            return hours[1]
        if hours is not None and hours[0] <= at:
            return at
        return self._previous_close_time(at)

    def data_start(self) -> datetime:
        """The first instant with history (``history_days`` before now, at midnight UTC)."""
        start = self.now() - timedelta(days=self.history_days)
        return datetime(start.year, start.month, start.day, tzinfo=UTC)

    # --- prices ------------------------------------------------------------------------------

    def time_to_expiry(self, option: OptionSpec, at: datetime) -> float:
        """Years to expiry as the model prices it (measured from the start of ``at``'s minute)."""
        minute = math.floor(at.timestamp() / 60.0) * 60.0
        return max(option.expires_at.timestamp() - minute, 0.0) / _YEAR

    def smile_vol(self, option: OptionSpec, s: float, t: float, day: int) -> float:
        """The implied volatility of ``option`` given spot, time and the day's ATM level."""
        atm = self._paths[option.underlying.symbol].atm_vol(day)
        m = math.log(option.strike / s) / math.sqrt(max(t, 1.0 / 365.0))
        return min(3.0 * atm, max(0.5 * atm, atm * (1.0 - 0.6 * m + 0.8 * m * m)))

    def option_tick(self, option: OptionSpec, price: float) -> float:
        """The minimum price increment at ``price``."""
        if option.underlying.symbol == "SPX":
            return 0.05 if price < 3.0 else 0.10
        if option.underlying.symbol == "AAPL":
            return 0.01 if price < 3.0 else 0.05
        return 0.01

    def option_market(
        self, option: OptionSpec, s: float, t: float, day: int
    ) -> tuple[Greeks, float, float]:
        """Model greeks, bid and ask for ``option`` at spot ``s`` and ``t`` years to expiry."""
        vol = self.smile_vol(option, s, t, day)
        g = bs_greeks(option.right, s, option.strike, t, self.rate,
                      option.underlying.dividend_yield, vol)
        z = abs(math.log(option.strike / s)) / (vol * math.sqrt(max(t, 1e-6)))
        tick = self.option_tick(option, g.price)
        width = 0.004 * g.price + 0.00005 * s * (1.0 + 0.5 * min(z, 6.0))
        bid = max(0.0, _floor_tick(g.price - width / 2.0, tick))
        ask = max(tick, _ceil_tick(g.price + width / 2.0, tick))
        return g, bid, ask

    def _side_greeks(self, option: OptionSpec, g: Greeks, price: float, s: float,
                     t: float) -> Greeks | None:
        if price <= 0.0 or g.vega <= 1e-9:
            return None
        vol = max(0.01, g.iv + (price - g.price) / (g.vega * 100.0))
        return bs_greeks(option.right, s, option.strike, t, self.rate,
                         option.underlying.dividend_yield, vol)

    def trade_period(self, contract: UnderlyingSpec | OptionSpec, z: float = 0.0) -> float:
        """Seconds between simulated trades (fewer trades far from the money)."""
        if isinstance(contract, UnderlyingSpec):
            return 1.0
        return min(1800.0, 5.0 + 40.0 * z * z)

    def quote(self, con_id: int, at: datetime) -> Quote:
        """What a market-data subscription to ``con_id`` shows at ``at``.

        The path runs around the clock; with ``calendar=True`` the server streams only during
        regular sessions, and a subscription made while the market is closed shows
        ``quote(con_id, last_close(at))`` (IB's frozen data). Delayed data (types 3/4) is
        ``quote(con_id, at - 15 minutes)``.

        Raises:
            KeyError: for an unknown contract id.
        """
        contract = self.contract(con_id)
        if contract is None:
            raise KeyError(con_id)
        if isinstance(contract, UnderlyingSpec):
            return self._underlying_quote(contract, at)
        return self._option_quote(contract, at)

    def _sizes(self, con_id: int, ts: float, lot: int) -> tuple[int, int]:
        h = _mix(self.seed, con_id, math.floor(ts / self.quote_period))
        return lot * (1 + h % 50), lot * (1 + (h >> 16) % 50)

    def _session_start(self, at: datetime) -> float:
        if self.calendar:
            hours = cal.session(at.astimezone(cal.EXCHANGE_TZ).date())
            if hours is not None:
                return hours[0].timestamp()
        return math.floor(at.timestamp() / 86_400.0) * 86_400.0

    def _previous_close_time(self, at: datetime) -> datetime:
        return _previous_close(at.astimezone(cal.EXCHANGE_TZ).date())

    def _underlying_quote(self, spec: UnderlyingSpec, at: datetime) -> Quote:
        path = self._paths[spec.symbol]
        ts = at.timestamp()
        mid = path.price(ts)
        day = _day_index(at)
        period = self.trade_period(spec)
        last_ts = math.floor(ts / period) * period
        trades = int((ts - self._session_start(at)) // period)
        close = round(path.price(self._previous_close_time(at).timestamp()), 2)
        last = round(path.price(last_ts), 2)
        if spec.is_index:
            return Quote(spec.con_id, at, None, None, 0, 0, last, 0, 0, close, None,
                         path.atm_vol(day), path.realized_vol(day), mid)
        bid = _floor_tick(mid - 0.005, 0.01)
        bid_size, ask_size = self._sizes(spec.con_id, ts, 100)
        last_size = 100 * (1 + _mix(self.seed, spec.con_id, int(last_ts)) % 20)
        volume = trades * 100 * (5 + _mix(self.seed, spec.con_id, day) % 5)
        return Quote(spec.con_id, at, bid, round(bid + 0.01, 2), bid_size, ask_size, last,
                     last_size, volume, close, None, path.atm_vol(day),
                     path.realized_vol(day), mid)

    def _option_quote(self, option: OptionSpec, at: datetime) -> Quote:
        path = self._paths[option.underlying.symbol]
        ts = at.timestamp()
        s = path.price(ts)
        t = self.time_to_expiry(option, at)
        day = _day_index(at)
        g, bid, ask = self.option_market(option, s, t, day)
        # Trade frequency is fixed per day (from the open's moneyness), so that cumulative
        # volume only ever grows within a session as the underlying moves.
        opened = self._session_start(at)
        s0 = path.price(opened)
        t0 = self.time_to_expiry(option, datetime.fromtimestamp(opened, UTC))
        z = abs(math.log(option.strike / s0)) / (path.atm_vol(day) * math.sqrt(max(t0, 1e-6)))
        period = self.trade_period(option, z)
        last_ts = math.floor(ts / period) * period
        last = self._memoized(option, "last", last_ts)
        trades = int((ts - self._session_start(at)) // period)
        volume = trades * (3 + _mix(self.seed, option.con_id, day) % 5)
        bid_size, ask_size = self._sizes(option.con_id, ts, 1)
        if bid == 0.0:
            bid_size = 0
        close_ts = self._previous_close_time(at).timestamp()
        close = self._memoized(option, "close", close_ts)
        return Quote(option.con_id, at, bid, ask, bid_size, ask_size, last,
                     1 + _mix(self.seed, option.con_id, int(last_ts)) % 10, volume, close,
                     self.open_interest(option, day), g.iv, None, s, g,
                     self._side_greeks(option, g, bid, s, t),
                     self._side_greeks(option, g, ask, s, t))

    def _memoized(self, option: OptionSpec, kind: str, ts: float) -> float:
        """The traded ("last") or closing ("close") price at ``ts``, computed once."""
        key = (option.con_id, kind, ts)
        value = self._memo.get(key)
        if value is None:
            at = datetime.fromtimestamp(ts, UTC)
            path = self._paths[option.underlying.symbol]
            g, _, _ = self.option_market(option, path.price(ts), self.time_to_expiry(option, at),
                                         _day_index(at))
            tick = self.option_tick(option, g.price) if kind == "last" else 0.01
            value = _floor_tick(g.price, tick) if kind == "last" else round(g.price, 2)
            if len(self._memo) > 200_000:
                self._memo.clear()
            self._memo[key] = value
        return value

    def open_interest(self, option: OptionSpec, day: int) -> int:
        """Open interest (constant through a day; highest near the money)."""
        s = self._paths[option.underlying.symbol].daily_price(day)
        x = math.log(option.strike / s) / 0.08
        return int(200 + 30_000 * math.exp(-0.5 * x * x)) + _mix(self.seed, option.con_id,
                                                                  day) % 500

    # --- history -----------------------------------------------------------------------------

    def bars(
        self,
        con_id: int,
        *,
        end: datetime | str = "",
        duration: str = "1 D",
        bar_size: str = "1 min",
        what_to_show: str = "MIDPOINT",
        use_rth: bool = False,
    ) -> list[Bar]:
        """History bars with IB's request semantics (see :mod:`alc_data.ib.sim.history`).

        Raises:
            alc_data.ib.sim.history.HistoryError: with the IB error code IB would answer.
        """
        from alc_data.ib.sim.history import request_bars

        return request_bars(self, con_id, end=end, duration=duration, bar_size=bar_size,
                            what_to_show=what_to_show, use_rth=use_rth)

    def head_timestamp(self, con_id: int, *, use_rth: bool = False) -> datetime:
        """The earliest history instant reqHeadTimeStamp reports for ``con_id``.

        Raises:
            KeyError: for an unknown contract id.
        """
        from alc_data.ib.sim.history import head_timestamp

        contract = self.contract(con_id)
        if contract is None:
            raise KeyError(con_id)
        return head_timestamp(self, contract, use_rth)


@lru_cache(maxsize=512)
def _previous_close(day: date) -> datetime:
    """The close of the last regular session before ``day``."""
    hours = cal.session(cal.previous_trading_day(day))
    assert hours is not None
    return hours[1]


def _day_index(at: datetime | date) -> int:
    """Days since 2020-01-01 (UTC) of an instant or a date."""
    if isinstance(at, datetime):
        return math.floor((at.timestamp() - EPOCH_TS) / 86_400.0)
    return (at - date(2020, 1, 1)).days
