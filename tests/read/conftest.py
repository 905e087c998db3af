"""A small option market in a real PostgreSQL database, and Arrow readers of it."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from alc_data.read import ArrowReader
from alc_data.repositories import (
    OptionBarRepository,
    OptionBarRow,
    OptionTick,
    OptionTickRepository,
    StockBarRepository,
    StockBarRow,
    StockTick,
    StockTickRepository,
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


@pytest.fixture(scope="module")
async def market(engine: AsyncEngine) -> AsyncIterator[Market]:
    """SPY with 8 contracts, 1,500 option ticks over 3 days, stock ticks; removed afterwards."""
    rng = random.Random(19)
    async with AsyncSession(engine) as session, session.begin():
        uid = await add_underlying(session, "SPY")
        ids = await add_contracts(session, uid, [590, 595, 600, 605])
        ticks = random_ticks(ids, rng, 1500, 3)
        await OptionTickRepository(session).add_many(ticks)
        stock = [StockTick(uid, DAY0 + timedelta(minutes=7 * i), 598 + i / 10) for i in range(300)]
        await StockTickRepository(session).add_many(stock)
        bars = [
            OptionBarRow(ids[0], "BID_ASK", "1 min", DAY0 + timedelta(minutes=m), 5 + m / 100,
                         None, None, 5.1 + m / 100, float(m), None, None)
            for m in range(0, 600, 1)
        ] + [
            OptionBarRow(ids[1], "BID_ASK", "5 mins", DAY0 + timedelta(minutes=5 * m),
                         4.0, None, None, 4.2 if m % 7 else None, None, None, None)
            for m in range(200)
        ]  # fmt: skip
        await OptionBarRepository(session).add_many(bars)
        stock_bars = [
            StockBarRow(uid, "TRADES", "1 min", DAY0 + timedelta(minutes=m), 598.0, 599.0,
                        597.0, 598.5, 1000.0, 598.2, 10)
            for m in range(100)
        ]  # fmt: skip
        await StockBarRepository(session).add_many(stock_bars)
    yield Market(uid, ids, ticks, stock)
    async with engine.begin() as conn:
        for table in ("market_data_ticks", "stock_data_ticks", "option_bars", "stock_bars"):
            await conn.execute(text(f"DELETE FROM {table}"))
        await conn.execute(text("DELETE FROM option_chains"))
        await conn.execute(text("DELETE FROM underlying_securities"))


@pytest.fixture(params=[True, False], ids=["copy", "cursor"])
def reader(request: pytest.FixtureRequest, migrated_url: URL) -> Iterator[ArrowReader]:
    """An Arrow reader of the session's database, on the COPY path and on the cursor path."""
    with ArrowReader.connect(migrated_url, copy=request.param, batch_rows=97) as r:
        assert r.connection.copy is request.param
        yield r
