"""The simulated stocks' cash dividends: quarterly ex-dates and amounts, known in advance.

Ex-dates follow each underlying's :class:`~alc_data.ib.sim.instruments.DividendRule` (SPY: the
third Friday of March, June, September and December; QQQ: the fourth Monday; IWM: just after
the first Monday; AAPL: the second Friday of February, May, August and November), moved to the
next trading day when needed. An amount is the anchor price times the yield, / 4, growing 5 %
a year, so it does not depend on the price path and a schedule is known years ahead. The stock
goes ex at 00:00 New York time on the ex-date. Indexes pay none.

IB publishes dividends through generic tick 456 (tick type 59, ``IB_DIVIDENDS``) as
``"past 12 months,next 12 months,next date (yyyymmdd),next amount"``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache

from alc_data import exchange_calendar as cal
from alc_data.ib.sim.instruments import UnderlyingSpec

__all__ = ["Dividend", "dividends_between", "ex_time", "tick_456"]

_ANCHOR = date(2025, 6, 2)


@dataclass(frozen=True, slots=True)
class Dividend:
    """One cash dividend: ex-date and amount per share."""

    ex_date: date
    amount: float

    @property
    def ex_at(self) -> datetime:
        """The instant the stock goes ex (00:00 New York on the ex-date), UTC."""
        return ex_time(self.ex_date)


def ex_time(ex_date: date) -> datetime:
    """00:00 New York time on ``ex_date``, as UTC."""
    return datetime.combine(ex_date, datetime.min.time(), cal.EXCHANGE_TZ).astimezone(UTC)


def _nth_weekday(year: int, month: int, weekday: int, nth: int) -> date:
    first = date(year, month, 1)
    return first + timedelta(days=(weekday - first.weekday()) % 7 + 7 * (nth - 1))


@lru_cache(maxsize=512)
def _year(spec: UnderlyingSpec, year: int) -> tuple[Dividend, ...]:
    rule = spec.dividends
    if rule is None:
        return ()
    result = []
    for month in rule.months:
        d = _nth_weekday(year, month, rule.weekday, rule.nth) + timedelta(days=rule.offset)
        if not cal.is_trading_day(d):
            d = cal.next_trading_day(d)
        years = (d - _ANCHOR).days / 365.0
        amount = spec.anchor_price * rule.yield_ / 4.0 * (1.0 + rule.growth) ** years
        result.append(Dividend(d, round(amount, 4)))
    return tuple(result)


def dividends_between(spec: UnderlyingSpec, start: date, end: date) -> list[Dividend]:
    """Dividends with ``start < ex_date <= end``."""
    return [
        d
        for year in range(start.year, end.year + 1)
        for d in _year(spec, year)
        if start < d.ex_date <= end
    ]


def tick_456(spec: UnderlyingSpec, on: date) -> str | None:
    """IB's dividends tick text on ``on`` (None for an underlying without dividends)."""
    if spec.dividends is None:
        return None
    past = dividends_between(spec, on - timedelta(days=365), on)
    future = dividends_between(spec, on, on + timedelta(days=365))
    nxt = future[0] if future else None
    return ",".join(
        (
            f"{sum(d.amount for d in past):.4f}",
            f"{sum(d.amount for d in future):.4f}",
            f"{nxt.ex_date:%Y%m%d}" if nxt else "",
            f"{nxt.amount:.4f}" if nxt else "",
        )
    )
