"""The simulated options market: a deterministic, seeded model of quotes the server streams.

Tests query the same object the server uses, so ``model.quote(con_id, at)`` is exactly what a
subscribed client sees at ``at``. Options are valued at the underlying's quoted midpoint (stocks
quote a one-cent market around the path; the index at the path rounded to cents) and at the
start of the minute, so an option's quote changes when its underlying's quote or the minute
does, and is computed once for both (the simulator's speed comes from this cache).
"""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import Protocol

from alc_data import exchange_calendar as cal
from alc_data.ib.sim import instruments as ins
from alc_data.ib.sim import listings
from alc_data.ib.sim.clock import SimClock
from alc_data.ib.sim.core import EPOCH_TS, Quote, day_index, floor_tick, mix
from alc_data.ib.sim.dividends import tick_456
from alc_data.ib.sim.instruments import OptionSpec, UnderlyingSpec
from alc_data.ib.sim.paths import UnderlyingPath
from alc_data.ib.sim.valuation import OptionMarket, Valuer, option_tick

__all__ = ["QuoteModel", "Shifter"]


class Shifter(Protocol):
    """What moves planted legs' quotes (:class:`alc_data.ib.sim.planting.Planter`)."""

    def bid_ask(self, option: OptionSpec, ts: float) -> tuple[float, float]:
        """The option's quoted bid and ask at epoch second ``ts``."""
        ...


_CACHE_LIMIT = 300_000


class QuoteModel:
    """A seeded market of several underlyings and their listed options (quotes and listings).

    Args:
        seed: the same seed always gives the same prices.
        calendar: stream live data only in sessions (frozen data outside); by default live
            data streams at any hour. History always follows the exchange calendar.
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
        rate: float = 0.04,
        quote_period: float = 0.25,
        clock: SimClock | None = None,
    ) -> None:
        self.seed = seed
        self.calendar = calendar
        self.history_days = history_days
        self.rate = rate
        self.quote_period = max(quote_period, 0.01)
        self.clock = clock or SimClock()
        self._paths = {u.symbol: UnderlyingPath(u, seed) for u in ins.UNDERLYINGS}
        self._strikes: dict[tuple[str, str, date], dict[float, date]] = {}
        self._markets: dict[tuple[int, int, int], OptionMarket] = {}
        self._memo: dict[tuple[int, str, float], float] = {}
        self._days: dict[tuple[int, float], tuple[float, float, int, int, float]] = {}
        self._contracts: dict[int, UnderlyingSpec | OptionSpec | None] = {}
        #: planted opportunities (see :mod:`alc_data.ib.sim.planting`); None: the plain market
        self.planter: Shifter | None = None
        self.valuer = Valuer(
            rate, lambda spec, ts: self.vol_levels(spec, math.floor((ts - EPOCH_TS) / 86_400.0))
        )

    # --- instruments -------------------------------------------------------------------------

    @property
    def underlyings(self) -> tuple[UnderlyingSpec, ...]:
        """The simulated stocks and index."""
        return ins.UNDERLYINGS

    def underlyings_by_symbol(self, symbol: str) -> UnderlyingSpec:
        """The underlying called ``symbol``.

        Raises:
            KeyError: for an unknown symbol.
        """
        spec = ins.underlying_by_symbol(symbol)
        if spec is None:
            raise KeyError(symbol)
        return spec

    def path(self, symbol: str) -> UnderlyingPath:
        """The price path of an underlying."""
        return self._paths[symbol]

    def now(self) -> datetime:
        """The clock's current time."""
        return self.clock.now()

    def today(self) -> date:
        """The clock's date in New York."""
        return self.now().astimezone(cal.EXCHANGE_TZ).date()

    def listed(self, symbol: str, on: date | None = None) -> list[tuple[str, date]]:
        """(trading class, expiration) pairs of ``symbol`` trading on ``on`` (default today)."""
        spec = ins.underlying_by_symbol(symbol)
        if spec is None:
            return []
        return [(c, e) for c, e, _ in listings.expirations_listed(spec, on or self.today())]

    def expirations(self, symbol: str, on: date | None = None) -> list[date]:
        """The expirations of ``symbol`` (any trading class) trading on ``on`` (default today)."""
        return sorted({e for _, e in self.listed(symbol, on)})

    def _schedule(
        self, spec: UnderlyingSpec, trading_class: str, expiry: date
    ) -> dict[float, date]:
        key = (spec.symbol, trading_class, expiry)
        found = self._strikes.get(key)
        if found is None:
            kind = listings.expiry_kind(spec, trading_class, expiry)
            path = self._paths[spec.symbol]
            found = {}
            if kind is not None:
                found = listings.strike_schedule(
                    spec, kind, expiry, lambda d: path.daily_price(day_index(d))
                )
            self._strikes[key] = found
        return found

    def _default_class(self, spec: UnderlyingSpec, expiry: date) -> str:
        if listings.expiry_kind(spec, spec.symbol, expiry) is None and spec.weekly_class:
            return spec.weekly_class
        return spec.symbol

    def strikes(
        self, symbol: str, expiry: date, trading_class: str | None = None, on: date | None = None
    ) -> list[float]:
        """The strikes of an expiration listed on ``on`` (default today; strikes are added
        as the price moves, never removed)."""
        spec = ins.underlying_by_symbol(symbol)
        if spec is None:
            return []
        schedule = self._schedule(spec, trading_class or self._default_class(spec, expiry), expiry)
        day = on or self.today()
        return sorted(k for k, first in schedule.items() if first <= day)

    def option(
        self, symbol: str, expiry: date, strike: float, right: str, trading_class: str = ""
    ) -> OptionSpec | None:
        """The option with these terms if it is (or was) listed."""
        spec = ins.underlying_by_symbol(symbol)
        if spec is None:
            return None
        cls = trading_class or self._default_class(spec, expiry)
        if strike not in self._schedule(spec, cls, expiry):
            return None
        return OptionSpec(spec, expiry, strike, right.upper()[:1], cls)

    def contract(self, con_id: int) -> UnderlyingSpec | OptionSpec | None:
        """Decode any contract id (expired options included)."""
        if con_id in self._contracts:
            return self._contracts[con_id]
        found: UnderlyingSpec | OptionSpec | None = ins.underlying_by_con_id(con_id)
        if found is None:
            found = ins.decode_option_con_id(con_id)
            if found is not None and found.strike not in self._schedule(
                found.underlying, found.trading_class, found.expiry
            ):
                found = None
        if len(self._contracts) > _CACHE_LIMIT:
            self._contracts.clear()
        self._contracts[con_id] = found
        return found

    def listed_on(self, option: OptionSpec) -> date:
        """The first day ``option`` traded."""
        return self._schedule(option.underlying, option.trading_class, option.expiry)[option.strike]

    def is_expired(self, option: OptionSpec, at: datetime | None = None) -> bool:
        """True once the option's last trading moment has passed."""
        return (at or self.now()) >= option.expires_at

    # --- sessions ----------------------------------------------------------------------------

    def session(
        self, contract: UnderlyingSpec | OptionSpec, day: date, *, extended: bool = False
    ) -> tuple[datetime, datetime] | None:
        """The trading hours of ``contract`` on ``day`` (UTC), or None when closed.

        Stocks: the regular session, or 04:00-20:00 with ``extended``; an index: the regular
        session; options: the regular session, to 16:15 for index and SPY/QQQ/IWM options.
        """
        if isinstance(contract, OptionSpec):
            return cal.option_session(day, late_close=contract.underlying.late_close)
        if extended and not contract.is_index:
            return cal.extended_session(day)
        return cal.session(day)

    def in_session(self, con_id: int, at: datetime, *, extended: bool = False) -> bool:
        """True when ``con_id`` trades at ``at`` (see :meth:`session`).

        Raises:
            KeyError: for an unknown contract id.
        """
        contract = self.contract(con_id)
        if contract is None:
            raise KeyError(con_id)
        hours = self.session(contract, at.astimezone(cal.EXCHANGE_TZ).date(), extended=extended)
        return hours is not None and hours[0] <= at < hours[1]

    def is_open(self, at: datetime) -> bool:
        """True when live data streams at ``at`` (always, unless following the calendar)."""
        return cal.is_open(at) if self.calendar else True

    def last_close(self, at: datetime) -> datetime:
        """The end of the last regular session at or before ``at``."""
        day = at.astimezone(cal.EXCHANGE_TZ).date()
        hours = cal.session(day)
        if hours is not None and hours[1] <= at:
            return hours[1]
        if hours is not None and hours[0] <= at:
            return at
        return _previous_close(day)

    def data_start(self) -> datetime:
        """The first instant with history (``history_days`` before now, at midnight UTC)."""
        start = self.now() - timedelta(days=self.history_days)
        return datetime(start.year, start.month, start.day, tzinfo=UTC)

    # --- prices ------------------------------------------------------------------------------

    def time_to_expiry(self, option: OptionSpec, at: datetime) -> float:
        """Years to expiry as the model prices it (measured from the start of ``at``'s minute)."""
        minute = math.floor(at.timestamp() / 60.0) * 60.0
        return max(option.expires_at.timestamp() - minute, 0.0) / (365.0 * 86_400.0)

    def spot(self, spec: UnderlyingSpec, ts: float) -> float:
        """What options are valued at: the stock's quoted midpoint, or the index level."""
        raw = self._paths[spec.symbol].price(ts)
        if spec.is_index:
            return round(raw, 2)
        return round(math.floor(raw * 100.0 + 1e-9) / 100.0 + 0.005, 3)

    def vol_levels(self, spec: UnderlyingSpec, day: int) -> tuple[float, float]:
        """The day's (short-end, long-run) at-the-money volatilities."""
        return self._paths[spec.symbol].atm_vol(day), spec.vol * 1.08

    def option_market(self, option: OptionSpec, s: float, minute_ts: float) -> OptionMarket:
        """Value, greeks and quote of ``option`` at spot ``s`` and the minute ``minute_ts``."""
        key = (option.con_id, round(minute_ts), round(s * 1000.0))
        found = self._markets.get(key)
        if found is None:
            levels = self.vol_levels(
                option.underlying, math.floor((minute_ts - EPOCH_TS) / 86_400.0)
            )
            found = self.valuer.market(option, s, minute_ts, levels)
            if len(self._markets) > _CACHE_LIMIT:
                self._markets.clear()
            self._markets[key] = found
        return found

    def option_tick(self, option: OptionSpec, price: float) -> float:
        """The minimum price increment at ``price``."""
        return option_tick(option, price)

    def market_at(self, option: OptionSpec, ts: float) -> OptionMarket:
        """The option's market at epoch second ``ts`` (what :meth:`quote` shows)."""
        minute = math.floor(ts / 60.0) * 60.0
        return self.option_market(option, self.spot(option.underlying, ts), minute)

    def trade_period(self, contract: UnderlyingSpec | OptionSpec, z: float = 0.0) -> float:
        """Seconds between simulated trades (fewer trades far from the money)."""
        if isinstance(contract, UnderlyingSpec):
            return 1.0
        return min(1800.0, 5.0 + 40.0 * z * z)

    def trade_period_at(self, contract: UnderlyingSpec | OptionSpec, at: datetime) -> float:
        """Seconds between the contract's simulated trades on ``at``'s day (trades fall on
        multiples of it)."""
        if isinstance(contract, UnderlyingSpec):
            return self.trade_period(contract)
        return self._daily(contract, at)[1]

    def quote(self, con_id: int, at: datetime) -> Quote:
        """What a market-data subscription to ``con_id`` shows at ``at``.

        With ``calendar=True`` the server streams only during regular sessions, and a
        subscription made while the market is closed shows ``quote(con_id, last_close(at))``
        (IB's frozen data). Delayed data (types 3/4) is ``quote(con_id, at - 15 minutes)``.

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
        h = mix(self.seed, con_id, math.floor(ts / self.quote_period))
        return lot * (1 + h % 50), lot * (1 + (h >> 16) % 50)

    def session_start(self, at: datetime) -> float:
        """The start of the trading day counted for volume (the session's open, else 00:00 UTC)."""
        if self.calendar:
            hours = cal.session(at.astimezone(cal.EXCHANGE_TZ).date())
            if hours is not None:
                return hours[0].timestamp()
        return math.floor(at.timestamp() / 86_400.0) * 86_400.0

    def _underlying_quote(self, spec: UnderlyingSpec, at: datetime) -> Quote:
        path = self._paths[spec.symbol]
        ts = at.timestamp()
        mid = self.spot(spec, ts)
        day = day_index(at)
        period = self.trade_period(spec)
        last_ts = math.floor(ts / period) * period
        trades = int((ts - self.session_start(at)) // period)
        close = round(
            path.price(_previous_close(at.astimezone(cal.EXCHANGE_TZ).date()).timestamp()), 2
        )
        last = round(path.price(last_ts), 2)
        if spec.is_index:
            return Quote(
                spec.con_id,
                at,
                None,
                None,
                0,
                0,
                last,
                0,
                0,
                close,
                None,
                path.atm_vol(day),
                path.realized_vol(day),
                mid,
            )
        bid = floor_tick(mid - 0.005, 0.01)
        bid_size, ask_size = self._sizes(spec.con_id, ts, 100)
        last_size = 100 * (1 + mix(self.seed, spec.con_id, int(last_ts)) % 20)
        volume = trades * 100 * (5 + mix(self.seed, spec.con_id, day) % 5)
        dividends = tick_456(spec, at.astimezone(cal.EXCHANGE_TZ).date())
        volumes, interest = self.option_activity(spec, at)
        return Quote(
            spec.con_id,
            at,
            bid,
            round(bid + 0.01, 2),
            bid_size,
            ask_size,
            last,
            last_size,
            volume,
            close,
            None,
            path.atm_vol(day),
            path.realized_vol(day),
            mid,
            dividends=dividends,
            option_volume=volumes,
            option_open_interest=interest,
        )

    def option_activity(
        self, spec: UnderlyingSpec, at: datetime
    ) -> tuple[tuple[int, int], tuple[int, int]]:
        """An underlying's option (call, put) volume so far today and (call, put) open interest.

        A model of the totals, not the sum over the simulated contracts (that would price every
        listed option): open interest is fixed through a day, volume grows through the session.
        """
        day = day_index(at)
        base = {"etf": 6_000_000, "stock": 3_000_000, "index": 9_000_000}[spec.product]
        h = mix(self.seed, spec.con_id, day, 101)
        calls = int(base * (0.8 + (h % 400) / 1000.0))
        puts = int(base * (1.0 + ((h >> 20) % 400) / 1000.0))
        minutes = max(0, int((at.timestamp() - self.session_start(at)) // 60))
        per_minute = base // 2000
        g = mix(self.seed, spec.con_id, day, 100)
        call_volume = minutes * int(per_minute * (0.8 + (g % 400) / 1000.0))
        put_volume = minutes * int(per_minute * (1.0 + ((g >> 20) % 400) / 1000.0))
        return (call_volume, put_volume), (calls, puts)

    def _option_sizes(self, option: OptionSpec, z: float, ts: float) -> tuple[int, int]:
        scale = {"etf": 900.0, "stock": 300.0, "index": 60.0}[option.underlying.product]
        base = 5.0 + scale * math.exp(-z * z / 8.0)
        h = mix(self.seed, option.con_id, math.floor(ts / self.quote_period))
        return int(base * (0.3 + (h % 100) / 100.0)), int(base * (0.3 + ((h >> 16) % 100) / 100.0))

    def _daily(self, option: OptionSpec, at: datetime) -> tuple[float, float, int, int, float]:
        """What is fixed for a contract through a day: (session start, trade period, contracts
        per trade, open interest, previous close)."""
        opened = self.session_start(at)
        key = (option.con_id, opened)
        found = self._days.get(key)
        if found is None:
            day = day_index(at)
            # Trade frequency is fixed per day (from the open's moneyness), so that cumulative
            # volume only ever grows within a session as the underlying moves.
            period = self.trade_period(option, self._opening_z(option, opened))
            lot = 3 + mix(self.seed, option.con_id, day) % 5
            close = self._memoized(option, "close", self._option_close_before(option, at))
            found = (opened, period, lot, self.open_interest(option, day), close)
            if len(self._days) > _CACHE_LIMIT:
                self._days.clear()
            self._days[key] = found
        return found

    def _option_quote(self, option: OptionSpec, at: datetime) -> Quote:
        ts = at.timestamp()
        spot = self.spot(option.underlying, ts)
        m = self.option_market(option, spot, math.floor(ts / 60.0) * 60.0)
        opened, period, lot, open_interest, close = self._daily(option, at)
        last_ts = math.floor(ts / period) * period
        last = self._memoized(option, "last", last_ts)
        volume = int((ts - opened) // period) * lot
        bid_size, ask_size = self._option_sizes(option, m.z, ts)
        bid, ask = m.bid, m.ask
        if self.planter is not None:
            bid, ask = self.planter.bid_ask(option, ts)
        if bid == 0.0:
            bid_size = 0
        last_size = 1 + mix(self.seed, option.con_id, int(last_ts)) % 10
        return Quote(
            option.con_id,
            at,
            bid,
            ask,
            bid_size,
            max(ask_size, 1),
            last,
            last_size,
            volume,
            close,
            open_interest,
            m.greeks.iv,
            None,
            spot,
            m.greeks,
            m.bid_greeks,
            m.ask_greeks,
        )

    def _option_close_before(self, option: OptionSpec, at: datetime) -> float:
        """The end of the option's last session before ``at``'s day (its "close" price)."""
        day = cal.previous_trading_day(at.astimezone(cal.EXCHANGE_TZ).date())
        hours = cal.option_session(day, late_close=option.underlying.late_close)
        assert hours is not None
        return hours[1].timestamp()

    def _opening_z(self, option: OptionSpec, opened: float) -> float:
        """Distance from the money at ``opened`` in at-the-money standard deviations."""
        spec = option.underlying
        s0 = self._paths[spec.symbol].price(opened)
        t0 = max(option.expires_at.timestamp() - opened, 86_400.0) / (365.0 * 86_400.0)
        vol = self.vol_levels(spec, math.floor((opened - EPOCH_TS) / 86_400.0))[0]
        return abs(math.log(option.strike / s0)) / (vol * math.sqrt(t0))

    def _memoized(self, option: OptionSpec, kind: str, ts: float) -> float:
        """The traded ("last") or closing ("close") price at ``ts``, computed once."""
        key = (option.con_id, kind, ts)
        value = self._memo.get(key)
        if value is None:
            m = self.market_at(option, min(ts, option.expires_at.timestamp()))
            price = m.greeks.price
            value = floor_tick(price, m.tick) if kind == "last" else round(price, 2)
            if kind == "last":
                value = min(max(value, m.bid), m.ask)
            if len(self._memo) > 200_000:
                self._memo.clear()
            self._memo[key] = value
        return value

    def open_interest(self, option: OptionSpec, day: int) -> int:
        """Open interest (constant through a day; highest near the money)."""
        s = self._paths[option.underlying.symbol].daily_price(day)
        x = math.log(option.strike / s) / 0.08
        return int(200 + 30_000 * math.exp(-0.5 * x * x)) + mix(self.seed, option.con_id, day) % 500


@lru_cache(maxsize=512)
def _previous_close(day: date) -> datetime:
    """The close of the last regular session before ``day``."""
    hours = cal.session(cal.previous_trading_day(day))
    assert hours is not None
    return hours[1]
