"""Deterministic price paths of the simulated underlyings.

The daily level is a trend plus a mean-reverting (Ornstein-Uhlenbeck) deviation, sampled at 00:00
UTC of every day since 2020-01-01, so prices stay realistic over years. Within a day the path is a
Brownian bridge between the two daily levels on a grid of one vertex every 20 seconds, linear
between vertices. Every value is a pure function of (seed, symbol, time): the same seed gives the
same market, and any instant can be priced without replaying history. Because the path is
piecewise linear, a bar's high and low are exact: they are taken over the vertices inside it.

A dividend-paying stock's price also carries the accrued next dividend: it grows linearly from
zero after an ex-date to the full amount at the next one, where the price drops by the amount
(at 00:00 New York time, between the last vertex before and the vertex at the ex instant).
"""

from __future__ import annotations

import math
import random
from array import array
from collections import OrderedDict
from datetime import UTC, datetime, timedelta
from itertools import pairwise

from alc_data.ib.sim.core import EPOCH_TS
from alc_data.ib.sim.dividends import dividends_between
from alc_data.ib.sim.instruments import UnderlyingSpec

__all__ = ["VERTEX_SECONDS", "UnderlyingPath"]

_ANCHOR_TS = datetime(2025, 6, 2, tzinfo=UTC).timestamp()
VERTEX_SECONDS = 20
_VERTICES_PER_DAY = 86_400 // VERTEX_SECONDS
_DAY = 86_400.0
_MEAN_REVERSION = 4.0  # per year
_DAY_CACHE = 48


class UnderlyingPath:
    """The price and volatility of one underlying as a function of time (epoch seconds)."""

    def __init__(self, spec: UnderlyingSpec, seed: int) -> None:
        self.spec = spec
        self.seed = seed
        self._daily: list[float] = [0.0]  # OU deviation at each day's 00:00 UTC
        self._daily_rng = random.Random(f"{seed}:{spec.symbol}:daily")
        phases = random.Random(f"{seed}:{spec.symbol}:vol")
        self._phase1 = phases.uniform(0, 2 * math.pi)
        self._phase2 = phases.uniform(0, 2 * math.pi)
        self._days: OrderedDict[int, array[float]] = OrderedDict()
        self._accruals: dict[int, _Accrual] = {}

    def _log_level(self, day: int) -> float:
        """The log price at 00:00 UTC of day ``day`` (days since 2020-01-01)."""
        a = math.exp(-_MEAN_REVERSION / 365.0)
        b = self.spec.vol * math.sqrt((1.0 - a * a) / (2.0 * _MEAN_REVERSION))
        while len(self._daily) <= day:
            self._daily.append(self._daily[-1] * a + b * self._daily_rng.gauss(0.0, 1.0))
        years = (EPOCH_TS + day * _DAY - _ANCHOR_TS) / (365.0 * _DAY)
        return math.log(self.spec.anchor_price) + self.spec.drift * years + self._daily[day]

    def daily_price(self, day: int) -> float:
        """The price at 00:00 UTC of day ``day``."""
        day = max(day, 0)
        ts = EPOCH_TS + day * _DAY
        return math.exp(self._log_level(day)) + self._accrual(day).at(ts)

    def _accrual(self, day: int) -> _Accrual:
        cached = self._accruals.get(day)
        if cached is None:
            cached = self._accruals[day] = _Accrual(self.spec, day)
            if len(self._accruals) > 4096:
                self._accruals.clear()
        return cached

    def atm_vol(self, day: int) -> float:
        """The at-the-money implied volatility level of day ``day``."""
        wave = 0.18 * math.sin(2 * math.pi * day / 61 + self._phase1)
        wave += 0.08 * math.sin(2 * math.pi * day / 17 + self._phase2)
        return self.spec.vol * (1.0 + wave)

    def realized_vol(self, day: int, window: int = 30) -> float:
        """Annualised close-to-close volatility over the ``window`` days before ``day``."""
        logs = [self._log_level(max(d, 0)) for d in range(day - window, day + 1)]
        rets = [b - a for a, b in pairwise(logs)]
        mean = sum(rets) / len(rets)
        var = sum((r - mean) ** 2 for r in rets) / max(len(rets) - 1, 1)
        return math.sqrt(var * 365.0)

    def _day_vertices(self, day: int) -> array[float]:
        cached = self._days.get(day)
        if cached is not None:
            self._days.move_to_end(day)
            return cached
        rng = random.Random(f"{self.seed}:{self.spec.symbol}:{day}")
        x0, x1 = self._log_level(day), self._log_level(day + 1)
        n = _VERTICES_PER_DAY
        step = self.spec.vol * math.sqrt(VERTEX_SECONDS / (365.0 * _DAY))
        gauss = rng.gauss
        walk = [0.0] * (n + 1)
        acc = 0.0
        for i in range(1, n + 1):
            acc += gauss(0.0, step)
            walk[i] = acc
        end = walk[n]
        span = x1 - x0
        accrual = self._accrual(day)
        base = EPOCH_TS + day * _DAY
        vertices = array(
            "d",
            (
                math.exp(x0 + (span - end) * i / n + walk[i])
                + accrual.at(base + i * VERTEX_SECONDS)
                for i in range(n + 1)
            ),
        )
        self._days[day] = vertices
        if len(self._days) > _DAY_CACHE:
            self._days.popitem(last=False)
        return vertices

    def _vertex(self, index: int) -> float:
        day, offset = divmod(index, _VERTICES_PER_DAY)
        return self._day_vertices(day)[offset]

    def price(self, ts: float) -> float:
        """The (unrounded) price at epoch second ``ts``."""
        pos = (ts - EPOCH_TS) / VERTEX_SECONDS
        index = math.floor(pos)
        frac = pos - index
        p0 = self._vertex(index)
        if frac == 0.0:
            return p0
        return p0 + (self._vertex(index + 1) - p0) * frac

    def ohlc(self, start: float, end: float) -> tuple[float, float, float, float, float, float]:
        """Open, high, low, close over [start, end] and the instants of the high and the low."""
        o, c = self.price(start), self.price(end)
        hi, hi_t = (o, start) if o >= c else (c, end)
        lo, lo_t = (o, start) if o <= c else (c, end)
        first = math.floor((start - EPOCH_TS) / VERTEX_SECONDS) + 1
        last = math.ceil((end - EPOCH_TS) / VERTEX_SECONDS) - 1
        index = first
        while index <= last:
            day, offset = divmod(index, _VERTICES_PER_DAY)
            vertices = self._day_vertices(day)
            stop = min(last - day * _VERTICES_PER_DAY, _VERTICES_PER_DAY - 1)
            for j in range(offset, stop + 1):
                v = vertices[j]
                if v > hi:
                    hi, hi_t = v, EPOCH_TS + (day * _VERTICES_PER_DAY + j) * VERTEX_SECONDS
                elif v < lo:
                    lo, lo_t = v, EPOCH_TS + (day * _VERTICES_PER_DAY + j) * VERTEX_SECONDS
            index = day * _VERTICES_PER_DAY + stop + 1
        return o, hi, lo, c, hi_t, lo_t


class _Accrual:
    """The accrued next dividend over one UTC day (and the day after): a function of time."""

    def __init__(self, spec: UnderlyingSpec, day: int) -> None:
        self.segments: list[tuple[float, float, float]] = []  # (from, to, amount)
        if spec.dividends is None:
            return
        start = datetime.fromtimestamp(EPOCH_TS + day * _DAY, UTC).date()
        found = dividends_between(spec, start - timedelta(days=200), start + timedelta(days=200))
        for previous, nxt in pairwise(found):
            self.segments.append((previous.ex_at.timestamp(), nxt.ex_at.timestamp(), nxt.amount))

    def at(self, ts: float) -> float:
        """The accrued dividend at epoch second ``ts``."""
        for lo, hi, amount in self.segments:
            if lo <= ts < hi:
                return amount * (ts - lo) / (hi - lo)
        return 0.0
