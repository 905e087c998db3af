"""A small option market for the read-path tests: what is seeded, and how."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from alc_data.repositories import (
    OptionTick,
    StockTick,
)

DAY0 = datetime(2026, 11, 16, 14, 30, tzinfo=UTC)  # a Monday, 09:30 New York
EXPIRY = date(2026, 12, 18)


@dataclass(repr=False)
class Market:
    """What was seeded: ids and the rows, as the object API would return them."""

    underlying_id: int
    contract_ids: list[int]
    ticks: list[OptionTick]
    stock_ticks: list[StockTick]


async def add_underlying(session: AsyncSession, symbol: str) -> int:
    sql = "INSERT INTO underlying_securities (symbol) VALUES (:s) RETURNING id"
    return int((await session.execute(text(sql), {"s": symbol})).scalar_one())


async def add_contracts(session: AsyncSession, uid: int, strikes: list[int]) -> list[int]:
    ids = []
    for strike in strikes:
        for right in "CP":
            row = await session.execute(
                text(
                    "INSERT INTO option_chains (underlying_id, expiration_date, strike_price, "
                    "option_type, trading_class, contract_symbol) VALUES "
                    "(:u, :e, :k, :r, 'SPY', :sym) RETURNING id"
                ),
                {"u": uid, "e": EXPIRY, "k": strike, "r": right, "sym": f"SPY{strike}{right}"},
            )
            ids.append(int(row.scalar_one()))
    return ids


def random_ticks(ids: list[int], rng: random.Random, n: int, days: int) -> list[OptionTick]:
    """``n`` ticks at random instants over ``days`` days (with nulls and ties across contracts)."""
    out: dict[tuple[int, datetime], OptionTick] = {}
    span = int(timedelta(days=days).total_seconds())
    while len(out) < n:
        cid = rng.choice(ids)
        at = DAY0 - timedelta(hours=16) + timedelta(seconds=rng.randrange(span))
        bid = round(rng.uniform(0.5, 20), 2)
        out[(cid, at)] = OptionTick(
            cid, at, bid, bid + 0.05 if rng.random() > 0.1 else None, None,
            rng.randrange(1, 50), rng.randrange(1, 50), None, rng.randrange(0, 10_000),
            None, rng.uniform(0.1, 0.5), rng.uniform(-1, 1), None, None, None, None, 600.0,
        )  # fmt: skip
    return sorted(out.values(), key=lambda t: (t.time, t.contract_id))
