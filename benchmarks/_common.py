"""Shared set-up of the benchmarks: the database, a synthetic option market, reporting."""

from __future__ import annotations

import asyncio
import json
import os
import statistics
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import psutil

from alc_data import Database, OptionTick, load_settings
from alc_data.db import migrate

SESSION_OPEN = timedelta(hours=14, minutes=30)  # 09:30 New York (winter), in UTC
SESSION_SECONDS = 6.5 * 3600
FIRST_DAY = date(2024, 1, 8)  # a Monday


def trading_days(n: int) -> list[date]:
    """``n`` weekdays from FIRST_DAY."""
    days: list[date] = []
    day = FIRST_DAY
    while len(days) < n:
        if day.weekday() < 5:
            days.append(day)
        day += timedelta(days=1)
    return days


def open_database() -> Database:
    """The database of ``ALC_DATABASE_URL`` (or the embedded one), migrated to head."""
    settings = load_settings()
    migrate.upgrade(migrate.settings_url(settings), "head")
    return Database.from_settings(settings)


async def create_market(db: Database, *, contracts: int, expiries: int) -> list[int]:
    """Empty the data tables; one underlying ``BENCH`` with ``contracts`` option contracts over
    ``expiries`` expiries (strikes x C/P); returns the contract ids, expiry by expiry."""
    per_expiry = contracts // expiries
    async with db.raw() as conn:
        await conn.execute(
            "TRUNCATE market_data_ticks, stock_data_ticks, option_bars, arbitrage_opportunities,"
            " data_quality_metrics, option_chains, underlying_securities RESTART IDENTITY CASCADE"
        )
        uid = await conn.fetchval(
            "INSERT INTO underlying_securities (symbol) VALUES ('BENCH') RETURNING id"
        )
        rows = []
        for e in range(expiries):
            expiry = date(2024, 3, 15) + timedelta(weeks=e)
            for k in range(per_expiry):
                strike = 300 + (k // 2) * 1.0
                rows.append((uid, expiry, strike, "CP"[k % 2], "BENCH", 100))
        await conn.executemany(
            "INSERT INTO option_chains (underlying_id, expiration_date, strike_price,"
            " option_type, trading_class, multiplier) VALUES ($1, $2, $3, $4, $5, $6)",
            rows,
        )
        ids = [r[0] for r in await conn.fetch("SELECT id FROM option_chains ORDER BY id")]
    return ids


def tick_rows(ids: list[int], *, total: int, days: int) -> Iterator[OptionTick]:
    """``total`` ticks spread evenly over ``ids`` and ``days`` trading days (in time order
    within a day, contracts interleaved as a live feed would be)."""
    per_day = total // days
    rounds = max(1, per_day // len(ids))
    step = SESSION_SECONDS / rounds
    made = 0
    for day in trading_days(days):
        base = datetime.combine(day, datetime.min.time(), UTC) + SESSION_OPEN
        for r in range(rounds):
            at = base + timedelta(seconds=r * step)
            for n, cid in enumerate(ids):
                if made == total:
                    return
                mid = 5.0 + (cid % 97) / 10 + (r % 13) / 100
                yield OptionTick(
                    cid, at + timedelta(microseconds=n), mid - 0.05, mid + 0.05, mid,
                    10, 12, 1, 1000 + r, 5000, 0.2, 0.5, 0.01, -0.02, 0.1, 0.01, 470.0,
                )  # fmt: skip
                made += 1


class RssSampler:
    """Peak resident memory of this process, sampled every 50 ms while running."""

    def __init__(self) -> None:
        self.peak = 0
        self._task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        proc = psutil.Process(os.getpid())
        while True:
            self.peak = max(self.peak, proc.memory_info().rss)
            await asyncio.sleep(0.05)

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> float:
        if self._task is not None:
            self._task.cancel()
        self.peak = max(self.peak, psutil.Process(os.getpid()).memory_info().rss)
        return self.peak / 2**20


def percentile(values: list[float], pct: float) -> float:
    """The ``pct`` percentile (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))]


def median(values: list[float]) -> float:
    return statistics.median(values)


def report(title: str, table: list[tuple[str, Any]], result: dict[str, Any]) -> None:
    """A human table, then the one JSON line (always last)."""
    print(title)
    width = max(len(k) for k, _ in table)
    for key, value in table:
        shown = f"{value:,.2f}" if isinstance(value, float) else str(value)
        print(f"  {key.ljust(width)}  {shown}")
    print(json.dumps(result, sort_keys=True))
