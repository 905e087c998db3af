"""Snapshots from any data: ticks where ticks exist, stored history bars where they do not."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from alc_data.read import ArrowReader
from alc_data.repositories import (
    ChainSnapshot,
    OptionBarRepository,
    OptionBarRow,
    OptionChainRepository,
    OptionTick,
    OptionTickRepository,
    StockBarRepository,
    StockBarRow,
    StockTick,
    StockTickRepository,
)
from tests.support.market import DAY0, add_contracts, add_underlying

AS_OF = DAY0 + timedelta(hours=1)


async def _seed(engine: AsyncEngine, *, ticks: bool, bars: bool) -> list[int]:
    """Contracts 0, 1 quoted by ticks (if ``ticks``); 2 by BID_ASK bars, 3 by MIDPOINT bars
    (if ``bars``); the underlying by a stock tick or, bars only, by TRADES bars."""
    async with AsyncSession(engine) as session, session.begin():
        uid = await add_underlying(session, "SPY")
        ids = await add_contracts(session, uid, [595, 600])
        if ticks:
            before = AS_OF - timedelta(minutes=3)
            quotes = [OptionTick(ids[i], before, 5.0 + i, 5.2 + i, delta=0.5) for i in (0, 1)]
            await OptionTickRepository(session).add_many(quotes)
            await StockTickRepository(session).add_many(
                [StockTick(uid, AS_OF - timedelta(seconds=5), 600.25)]
            )
        if bars:
            rows = []
            for m in range(60):  # 1-min bars starting DAY0 .. DAY0+59 min, the last ends at AS_OF
                at = DAY0 + timedelta(minutes=m)
                rows.append(OptionBarRow(ids[2], "BID_ASK", "1 min", at, 3.0 + m / 100, None,
                                         None, 3.1 + m / 100, 7.0, None, None))  # fmt: skip
                rows.append(OptionBarRow(ids[3], "MIDPOINT", "1 min", at, 2.0, 2.5, 1.5,
                                         2.0 + m / 100, None, None, None))  # fmt: skip
            # A bar that starts before AS_OF but ends after it must not be seen (look-ahead).
            rows.append(OptionBarRow(ids[2], "BID_ASK", "1 min", AS_OF - timedelta(seconds=30),
                                     9.0, None, None, 9.9, None, None, None))  # fmt: skip
            # Ticks win over bars for a contract that has both.
            rows.append(OptionBarRow(ids[0], "BID_ASK", "1 min", AS_OF - timedelta(minutes=2),
                                     1.0, None, None, 1.1, None, None, None))  # fmt: skip
            await OptionBarRepository(session).add_many(rows)
            await StockBarRepository(session).add_many(
                [StockBarRow(uid, "TRADES", "5 mins", DAY0 + timedelta(minutes=5 * m), 599.0,
                             600.0, 598.0, 599.5 + m, 1e4, None, 3) for m in range(12)]
            )  # fmt: skip
    return ids


async def _snapshot(engine: AsyncEngine) -> ChainSnapshot:
    async with AsyncSession(engine) as session:
        return await OptionChainRepository(session).chain_snapshot("SPY", as_of=AS_OF)


def _frame_matches(url: URL, snap: ChainSnapshot) -> None:
    """The Arrow snapshot says the same as the object one, on both paths."""
    for copy in (True, False):
        with ArrowReader.connect(url, copy=copy) as reader:
            frame = reader.chain_snapshot("SPY", as_of=AS_OF)
        rows = frame.quotes.to_pylist()
        assert [tuple(r.values()) for r in rows] == [tuple(q) for q in snap.quotes]
        under = frame.underlying.to_pylist()
        assert [tuple(r.values())[:-1] for r in under] == (
            [tuple(snap.underlying)] if snap.underlying else []
        )
        assert [r["basis"] for r in under] == (
            [snap.underlying_basis] if snap.underlying_basis else []
        )


async def test_from_bars_only(clean_db: AsyncEngine, migrated_url: URL) -> None:
    ids = await _seed(clean_db, ticks=False, bars=True)
    snap = await _snapshot(clean_db)
    by_id = {q.contract_id: q for q in snap.quotes}
    assert set(by_id) == {ids[0], ids[2], ids[3]}  # 1 has nothing at all
    bid_ask = by_id[ids[2]]
    assert (bid_ask.basis, bid_ask.what_to_show, bid_ask.bar_size) == ("bars", "BID_ASK", "1 min")
    assert bid_ask.time == AS_OF  # the last bar that had ended: started AS_OF - 1 min
    assert (bid_ask.bid_price, bid_ask.ask_price) == pytest.approx((3.59, 3.69))
    assert bid_ask.mid_price == pytest.approx(3.64)
    midpoint = by_id[ids[3]]
    assert (midpoint.basis, midpoint.what_to_show) == ("bars", "MIDPOINT")
    assert (midpoint.bid_price, midpoint.ask_price) == (None, None)
    assert midpoint.mid_price == pytest.approx(2.59)  # the MIDPOINT bar's close
    assert snap.underlying_basis == "bars"
    assert snap.underlying is not None
    assert snap.underlying.price == 599.5 + 11  # the close of the 5-min bar ending at AS_OF
    assert snap.underlying.time == AS_OF
    _frame_matches(migrated_url, snap)


async def test_from_ticks_only(clean_db: AsyncEngine, migrated_url: URL) -> None:
    ids = await _seed(clean_db, ticks=True, bars=False)
    snap = await _snapshot(clean_db)
    assert [(q.contract_id, q.basis, q.bid_price) for q in snap.quotes] == [
        (ids[0], "ticks", 5.0), (ids[1], "ticks", 6.0),
    ]  # fmt: skip
    assert all(q.what_to_show is None for q in snap.quotes)
    assert snap.underlying_basis == "ticks"
    assert snap.underlying is not None and snap.underlying.price == 600.25
    _frame_matches(migrated_url, snap)


async def test_mixed_ticks_win_where_they_exist(clean_db: AsyncEngine, migrated_url: URL) -> None:
    ids = await _seed(clean_db, ticks=True, bars=True)
    snap = await _snapshot(clean_db)
    basis = {q.contract_id: q.basis for q in snap.quotes}
    assert basis == {ids[0]: "ticks", ids[1]: "ticks", ids[2]: "bars", ids[3]: "bars"}
    assert next(q for q in snap.quotes if q.contract_id == ids[0]).bid_price == 5.0
    assert snap.underlying_basis == "ticks"
    _frame_matches(migrated_url, snap)


async def test_unquoted_contracts_on_request(clean_db: AsyncEngine, migrated_url: URL) -> None:
    ids = await _seed(clean_db, ticks=False, bars=True)
    async with AsyncSession(clean_db) as session:
        snap = await OptionChainRepository(session).chain_snapshot(
            "SPY", as_of=AS_OF, include_unquoted=True
        )
    unquoted = [q for q in snap.quotes if q.contract_id == ids[1]]
    assert len(unquoted) == 1 and unquoted[0].basis is None and unquoted[0].time is None
    with ArrowReader.connect(migrated_url) as reader:
        frame = reader.chain_snapshot("SPY", as_of=AS_OF, include_unquoted=True)
    assert frame.quotes.num_rows == len(snap.quotes) == 4


async def test_max_age_bounds_bars_too(clean_db: AsyncEngine) -> None:
    await _seed(clean_db, ticks=False, bars=True)
    async with AsyncSession(clean_db) as session:
        repo = OptionChainRepository(session)
        fresh = await repo.chain_snapshot("SPY", as_of=AS_OF, max_age=timedelta(minutes=30))
        later = await repo.chain_snapshot(
            "SPY", as_of=AS_OF + timedelta(hours=2), max_age=timedelta(minutes=30)
        )
    assert len(fresh.quotes) == 3  # positive control
    assert later.quotes == [] and later.underlying is None
