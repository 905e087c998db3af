"""Fixtures of the read-path tests: a seeded market and Arrow readers on both paths."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from alc_data.read import ArrowReader
from alc_data.repositories import (
    OptionBarRepository,
    OptionBarRow,
    OptionTickRepository,
    StockBarRepository,
    StockBarRow,
    StockTick,
    StockTickRepository,
)
from tests.support.market import DAY0, Market, add_contracts, add_underlying, random_ticks


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
