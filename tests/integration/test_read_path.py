"""The backtest read path: as-of chain snapshots, tick ranges, quote bars, split adjustment."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.engine import URL

from alc_data import (
    Database,
    OptionBarRow,
    OptionTick,
    Repositories,
    StockBarRow,
    StockTick,
)
from alc_data.errors import DataError, NaiveDatetimeError

T0 = datetime(2024, 3, 12, 14, 30, tzinfo=UTC)  # 10:30 New York
NEAR, FAR, OLD = date(2024, 3, 15), date(2024, 4, 19), date(2024, 3, 8)


@pytest.fixture
async def db(migrated_url: URL, clean_db: object) -> AsyncIterator[Database]:
    async with Database.from_url(migrated_url) as database:
        yield database


async def _chain(repos: Repositories) -> dict[str, int]:
    spy = await repos.securities.upsert("SPY")
    ids = {"spy": spy.id}
    for name, expiry, strike, right in (
        ("near_c", NEAR, 500, "C"),
        ("near_p", NEAR, 500, "P"),
        ("far_c", FAR, 500, "C"),
        ("old_c", OLD, 500, "C"),
        ("quiet", NEAR, 600, "C"),
    ):
        contract = await repos.chains.upsert(
            spy.id,
            expiration_date=expiry,
            strike_price=strike,
            option_type=right,
            trading_class="SPY",
        )
        ids[name] = contract.id
    return ids


async def test_chain_snapshot_as_of_edges(db: Database) -> None:
    async with db.session() as session:
        repos = Repositories(session)
        ids = await _chain(repos)
        await repos.ticks.add_many(
            [
                OptionTick(ids["near_c"], T0 - timedelta(minutes=5), 1.0, 1.2),
                OptionTick(ids["near_c"], T0, 2.0, 2.2),  # exactly at as_of: counts
                OptionTick(ids["near_c"], T0 + timedelta(microseconds=1), 9.0, 9.2),  # after
                OptionTick(ids["near_p"], T0 - timedelta(days=1), 3.0, 3.4),
                OptionTick(ids["far_c"], T0 - timedelta(seconds=1), 5.0, 5.5),
                OptionTick(ids["old_c"], T0 - timedelta(days=5), 0.1, 0.2),  # expired by T0
                OptionTick(ids["quiet"], T0 + timedelta(minutes=1), 0.5, 0.6),  # none before
            ]
        )
        await repos.stock_ticks.add_many(
            [
                StockTick(ids["spy"], T0 - timedelta(seconds=2), price=510.0),
                StockTick(ids["spy"], T0 + timedelta(seconds=2), price=999.0),
            ]
        )
        snap = await repos.chains.chain_snapshot("SPY", as_of=T0)
        near = await repos.chains.chain_snapshot("SPY", as_of=T0, expiry=NEAR)
        full = await repos.chains.chain_snapshot(
            "SPY", as_of=T0, expiry=NEAR, include_unquoted=True
        )
        fresh = await repos.chains.chain_snapshot("SPY", as_of=T0, max_age=timedelta(hours=1))
        before = await repos.chains.chain_snapshot("SPY", as_of=T0 - timedelta(days=30))
        with pytest.raises(NaiveDatetimeError):
            await repos.chains.chain_snapshot("SPY", as_of=T0.replace(tzinfo=None))

    by_id = {q.contract_id: q for q in snap.quotes}
    assert set(by_id) == {ids["near_c"], ids["near_p"], ids["far_c"]}  # two expiries
    assert by_id[ids["near_c"]].time == T0 and by_id[ids["near_c"]].bid_price == 2.0
    assert by_id[ids["near_c"]].mid_price == pytest.approx(2.1)
    assert by_id[ids["near_p"]].time == T0 - timedelta(days=1)
    assert snap.underlying is not None and snap.underlying.price == 510.0
    assert [q.expiration_date for q in snap.quotes] == [NEAR, NEAR, FAR]
    assert {q.contract_id for q in near.quotes} == {ids["near_c"], ids["near_p"]}
    quiet = next(q for q in full.quotes if q.contract_id == ids["quiet"])
    assert quiet.time is None and quiet.bid_price is None
    assert {q.contract_id for q in fresh.quotes} == {ids["near_c"], ids["far_c"]}
    # A month earlier the expired contract was live, but nothing had been quoted yet.
    assert before.quotes == [] and before.underlying is None


async def test_ticks_and_latest_are_half_open_ranges(db: Database) -> None:
    async with db.session() as session:
        repos = Repositories(session)
        ids = await _chain(repos)
        cid = ids["near_c"]
        rows = [OptionTick(cid, T0 + timedelta(seconds=i), 1.0 + i, 1.1 + i) for i in range(5)]
        # Across a UTC day boundary: two partitions.
        rows.append(OptionTick(cid, T0 + timedelta(days=1), 7.0, 7.5, delta=0.5))
        assert await repos.ticks.add_many(rows) == 6
        assert await repos.ticks.add_many(rows[:2]) == 0  # already stored
        got = await repos.ticks.ticks(
            cid, start=T0 + timedelta(seconds=1), end=T0 + timedelta(seconds=3)
        )
        assert [t.bid_price for t in got] == [2.0, 3.0]
        everything = await repos.ticks.ticks(cid, start=T0, end=T0 + timedelta(days=2))
        assert everything == rows
        limited = await repos.ticks.ticks(cid, start=T0, end=T0 + timedelta(days=2), limit=2)
        assert len(limited) == 2
        latest = await repos.ticks.latest(cid, as_of=T0 + timedelta(hours=1))
        assert latest == rows[4]
        assert await repos.ticks.latest(cid, as_of=T0 - timedelta(seconds=1)) is None


async def test_bars_mix_tick_aggregates_and_stored_bid_ask_bars(db: Database) -> None:
    async with db.session() as session:
        repos = Repositories(session)
        cid = (await _chain(repos))["near_c"]
        # Stored 1-min BID_ASK bars 14:20..14:39 (open = avg bid, close = avg ask).
        stored = [
            OptionBarRow(
                cid,
                "BID_ASK",
                "1 min",
                T0 - timedelta(minutes=10) + timedelta(minutes=i),
                open=1.0 + i / 10,
                high=2.0,
                low=0.5,
                close=1.2 + i / 10,
            )
            for i in range(20)
        ]
        stored.append(OptionBarRow(cid, "TRADES", "1 min", T0, 9.0, 9.0, 9.0, 9.0, 3.0))
        assert await repos.bars.add_many(stored) == 21
        # Ticks only in 14:30 and 14:31.
        ticks = [
            OptionTick(cid, T0 + timedelta(seconds=10), 1.0, 1.2, volume=10),
            OptionTick(cid, T0 + timedelta(seconds=40), 1.4, 1.6, volume=12),
            OptionTick(cid, T0 + timedelta(seconds=50), 0.8, 1.0, volume=13),
            OptionTick(cid, T0 + timedelta(seconds=70), 2.0, 2.2, volume=20),
        ]
        await repos.ticks.add_many(ticks)
        start, end = T0 - timedelta(minutes=10), T0 + timedelta(minutes=10)
        one = await repos.bars.bars(cid, interval="1 min", start=start, end=end)
        five = await repos.bars.bars(cid, interval=timedelta(minutes=5), start=start, end=end)
        only_ticks = await repos.bars.bars(
            cid, interval="1 min", start=start, end=end, basis="ticks"
        )
        only_bars = await repos.bars.bars(cid, interval="1 min", start=start, end=end, basis="bars")
        # The same numbers as the rollup table refreshed over the window.
        await session.execute(
            text("SELECT refresh_rollup('market_data_1min', :s, :e)"), {"s": start, "e": end}
        )
        rollup = (
            await session.execute(
                text(
                    "SELECT bucket, open, high, low, close, bid, ask, tick_count "
                    "FROM market_data_1min WHERE contract_id = :c ORDER BY bucket"
                ),
                {"c": cid},
            )
        ).all()
        with pytest.raises(DataError):
            await repos.bars.bars(cid, interval="30 secs", start=start, end=end)

    assert len(one) == 20
    assert [b.basis for b in one].count("ticks") == 2
    first = next(b for b in one if b.time == T0)
    assert first.basis == "ticks" and first.tick_count == 3
    assert (first.open, first.high, first.low, first.close) == pytest.approx((1.1, 1.5, 0.9, 0.9))
    assert (first.bid, first.ask, first.volume) == (0.8, 1.0, 13)
    assert [
        (b.time, b.open, b.high, b.low, b.close, b.bid, b.ask, b.tick_count) for b in only_ticks
    ] == [tuple(r) for r in rollup]
    earlier = next(b for b in one if b.time == T0 - timedelta(minutes=1))
    assert earlier.basis == "bars" and earlier.tick_count is None
    assert (earlier.bid, earlier.ask) == pytest.approx((1.9, 2.1))
    assert earlier.open == pytest.approx(2.0)
    # 5-minute buckets: 14:20 and 14:25 from stored bars, 14:30 from ticks, 14:35 from bars.
    assert [(b.time.minute, b.basis) for b in five] == [
        (20, "bars"),
        (25, "bars"),
        (30, "ticks"),
        (35, "bars"),
    ]
    assert five[2].tick_count == 4 and five[2].close == pytest.approx(2.1)
    assert five[0].open == pytest.approx(1.1) and five[0].close == pytest.approx(1.5)
    assert len(only_bars) == 20 and {b.basis for b in only_bars} == {"bars"}


async def test_split_adjusted_underlying_prices(db: Database) -> None:
    async with db.session() as session:
        repos = Repositories(session)
        spy = await repos.securities.upsert("NVDA")
        ex_date = date(2024, 6, 10)
        await repos.corporate_actions.record(
            spy.id, action_type="SPLIT", ex_date=ex_date, split_from=1, split_to=10
        )
        await repos.corporate_actions.record(
            spy.id, action_type="DIVIDEND", ex_date=ex_date, amount=0.01
        )
        before = datetime(2024, 6, 7, 19, 59, tzinfo=UTC)
        after = datetime(2024, 6, 10, 13, 31, tzinfo=UTC)
        await repos.stock_ticks.add_many(
            [
                StockTick(
                    spy.id, before, price=1200.0, bid_price=1199.0, ask_price=1201.0, volume=5
                ),
                StockTick(spy.id, after, price=121.0, bid_price=120.9, ask_price=121.1, volume=50),
            ]
        )
        await repos.stock_bars.add_many(
            [
                StockBarRow(spy.id, "TRADES", "1 day", before, 1180, 1210, 1170, 1200, 1000, 1190),
                StockBarRow(spy.id, "TRADES", "1 day", after, 120, 122, 119, 121, 9000, 120.5),
            ]
        )
        start, end = before - timedelta(days=1), after + timedelta(days=1)
        raw = await repos.stock_ticks.ticks(spy.id, start=start, end=end)
        adjusted = await repos.stock_ticks.ticks(spy.id, start=start, end=end, adjusted=True)
        bars = await repos.stock_bars.stored(
            spy.id, bar_size="1 day", what_to_show="TRADES", start=start, end=end, adjusted=True
        )
        latest = await repos.stock_ticks.latest(spy.id, as_of=before, adjusted=True)
        actions = await repos.corporate_actions.for_underlying(spy.id)
    assert [t.price for t in raw] == [1200.0, 121.0]
    assert [t.price for t in adjusted] == pytest.approx([120.0, 121.0])
    assert adjusted[0].bid_price == pytest.approx(119.9) and adjusted[0].volume == 5
    assert [b.close for b in bars] == pytest.approx([120.0, 121.0])
    assert bars[0].wap == pytest.approx(119.0)
    assert latest is not None and latest.price == pytest.approx(120.0)
    assert [a.action_type for a in actions] == ["SPLIT", "DIVIDEND"]
