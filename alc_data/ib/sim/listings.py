"""Option listings: which expirations trade on a day, and each expiration's strike grid.

Expiration kinds, by product (a date's kind is the longest-lived that applies):

- ETFs (SPY, QQQ, IWM): a daily expiration every trading day (listed 14 days ahead),
  Fridays (weeklies, 56 days), third Fridays (monthlies, a year), the last trading day of
  each quarter (quarterlies, a year) and LEAPS (third Fridays of January, June and December,
  listed 820 days, about 2.2 years, ahead).
- Single stocks (AAPL): Fridays (42 days), third Fridays (270 days), January LEAPS (820 days).
- SPX: AM-settled third-Friday monthlies as class ``SPX`` (a year; December LEAPS 820 days) and
  PM-settled ``SPXW`` dailies (14 days), Fridays (56 days) and quarter ends (a year).

A Friday (or third Friday) that is an exchange holiday expires on the trading day before.
Strikes: the listing day's price sets a band of the expiration kind's width, in fine steps
near the money and coarse steps beyond (SPY: $1 within 3-5 %, $5 further out); every Monday
after, strikes are added around that day's price (never removed), as exchanges do.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import date, timedelta
from functools import lru_cache

from alc_data import exchange_calendar as cal
from alc_data.ib.sim.instruments import StrikeRule, UnderlyingSpec

__all__ = [
    "KINDS",
    "expirations_listed",
    "expiry_kind",
    "listing_date",
    "strike_grid",
    "strike_schedule",
]

KINDS = ("daily", "weekly", "monthly", "quarterly", "leaps")
_LEADS = {
    "etf": {"daily": 14, "weekly": 56, "monthly": 365, "quarterly": 365, "leaps": 820},
    "stock": {"weekly": 42, "monthly": 270, "leaps": 820},
    "index": {"daily": 14, "weekly": 56, "monthly": 365, "quarterly": 365, "leaps": 820},
}
_LEAPS_MONTHS = {"etf": (1, 6, 12), "stock": (1,), "index": (12,)}
MAX_LEAD = 820


def _trading_day_on_or_before(d: date) -> date:
    return d if cal.is_trading_day(d) else cal.previous_trading_day(d)


@lru_cache(maxsize=4096)
def _monthly(year: int, month: int) -> date:
    first = date(year, month, 1)
    third_friday = first + timedelta(days=(4 - first.weekday()) % 7 + 14)
    return _trading_day_on_or_before(third_friday)


@lru_cache(maxsize=4096)
def _month_end(year: int, month: int) -> date:
    last = date(year + month // 12, month % 12 + 1, 1) - timedelta(days=1)
    return _trading_day_on_or_before(last)


def _is_friday_expiry(d: date) -> bool:
    friday = d + timedelta(days=(4 - d.weekday()) % 7)
    return d.weekday() <= 4 and _trading_day_on_or_before(friday) == d


@lru_cache(maxsize=65_536)
def expiry_kind(spec: UnderlyingSpec, trading_class: str, d: date) -> str | None:
    """The kind of expiration ``d`` is for ``trading_class`` (see the module), or None."""
    if trading_class not in spec.classes or not cal.is_trading_day(d):
        return None
    monthly = d == _monthly(d.year, d.month)
    leaps = monthly and d.month in _LEAPS_MONTHS[spec.product]
    if spec.is_index and trading_class == spec.symbol:  # SPX: AM-settled monthlies only
        return ("leaps" if leaps else "monthly") if monthly else None
    if leaps and not spec.weekly_class:
        return "leaps"
    if monthly and not spec.weekly_class:
        return "monthly"
    if d.month % 3 == 0 and d == _month_end(d.year, d.month) and spec.product != "stock":
        return "quarterly"
    if _is_friday_expiry(d):
        return "weekly"
    return "daily" if spec.product != "stock" else None


def listing_date(spec: UnderlyingSpec, kind: str, expiry: date) -> date:
    """The day an expiration of ``kind`` is first listed."""
    return expiry - timedelta(days=_LEADS[spec.product][kind])


@lru_cache(maxsize=2048)
def expirations_listed(spec: UnderlyingSpec, on: date) -> tuple[tuple[str, date, str], ...]:
    """Every (trading class, expiration, kind) trading on ``on``, in date order."""
    result = []
    for offset in range(MAX_LEAD + 1):
        d = on + timedelta(days=offset)
        for trading_class in spec.classes:
            kind = expiry_kind(spec, trading_class, d)
            if kind is not None and listing_date(spec, kind, d) <= on:
                result.append((trading_class, d, kind))
    return tuple(result)


def _index_range(step: float, center: float, band: float) -> tuple[int, int]:
    """The multiples of ``step`` within ``band`` of ``center``: (first, last) index."""
    lo = math.ceil(center * (1.0 - band) / step - 1e-9)
    return max(lo, 1), math.floor(center * (1.0 + band) / step + 1e-9)


def strike_grid(rule: StrikeRule, kind: str, center: float) -> list[float]:
    """Strikes around ``center``: fine steps within the fine band, coarse ones to the edge."""
    total, fine_band = rule.band(kind)
    strikes: set[float] = set()
    for step, band in ((rule.fine, fine_band), (rule.coarse, total)):
        lo, hi = _index_range(step, center, band)
        strikes.update(round(i * step, 4) for i in range(lo, hi + 1))
    return sorted(strikes)


def strike_schedule(
    spec: UnderlyingSpec, kind: str, expiry: date, price_on: Callable[[date], float]
) -> dict[float, date]:
    """Every strike an expiration ever lists, with the day it was added.

    The listing day's grid, then every Monday's grid around that Monday's price (``price_on``);
    a LEAPS gets a monthly's grid in its last year.
    """
    rule = spec.strikes
    first: dict[float, date] = {}
    covered: dict[float, tuple[int, int]] = {}  # step -> the index range listed so far
    day = listing_date(spec, kind, expiry)
    while day <= expiry:
        center = price_on(day)
        # A LEAPS within a year of expiry is listed like a monthly (fine strikes near the money).
        near = kind == "leaps" and (expiry - day).days <= 365
        total, fine_band = rule.band("monthly" if near else kind)
        for step, band in ((rule.fine, fine_band), (rule.coarse, total)):
            lo, hi = _index_range(step, center, band)
            seen = covered.get(step)
            for i in range(lo, hi + 1):
                if seen is None or not seen[0] <= i <= seen[1]:
                    first.setdefault(round(i * step, 4), day)
            if lo <= hi:
                covered[step] = (min(lo, seen[0]), max(hi, seen[1])) if seen else (lo, hi)
        day += timedelta(days=7 - day.weekday())
    return first
