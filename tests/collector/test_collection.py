"""Collections against the simulator through the real ib_async client into the real database."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from ib_async import IB

from alc_data import Database
from alc_data.collector import OptionsDataCollector
from alc_data.ib.sim import Quote, SimServer
from tests.support.collecting import collecting, small_config, table_count, until

pytestmark = pytest.mark.timeout(60)


def _expected_option(q: Quote) -> dict[str, Any]:
    """What a row must hold when the simulator published ``q`` (as sent on the wire)."""
    g = q.greeks
    assert g is not None
    return {
        "bid_price": q.bid if q.bid_size else None,  # a 0 bid with size 0 is "no bid"
        "ask_price": q.ask,
        "last_price": q.last,
        "bid_size": q.bid_size if q.bid_size else None,
        "ask_size": q.ask_size,
        "last_size": q.last_size,
        "volume": q.volume or None,
        "open_interest": q.open_interest,
        "implied_volatility": round(g.iv, 6),
        "delta": round(g.delta, 6),
        "gamma": round(g.gamma, 6),
        "theta": round(g.theta, 6),
        "vega": round(g.vega, 6),
        "underlying_price": round(q.und_price, 4),
    }


async def _rows(db: Database, table: str, key: str) -> list[Any]:
    async with db.raw() as conn:
        return list(await conn.fetch(f"SELECT * FROM {table} ORDER BY {key}, time"))


async def _latest_rows(db: Database) -> dict[int, Any]:
    async with db.raw() as conn:
        rows = await conn.fetch(
            "SELECT DISTINCT ON (contract_id) * FROM market_data_ticks "
            "ORDER BY contract_id, time DESC"
        )
    return {r["contract_id"]: r for r in rows}


async def _eventually(check: Any, within: float = 30.0) -> None:
    """Poll the async predicate ``check`` until it holds (no fixed waits: a loaded machine
    only takes longer)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not await check():
        if loop.time() > deadline:
            raise AssertionError(f"not reached within {within} s")
        await asyncio.sleep(0.05)


async def test_rows_match_what_the_simulator_published(
    sim: SimServer, ib: IB, db: Database, tmp_path: Path
) -> None:
    """Five market states, one after the other: each state reaches the database for every
    contract exactly as the simulator published it (the test moves on when it has)."""
    collector = OptionsDataCollector(db, ib, small_config(tmp_path))
    start = datetime.now(UTC)
    sim.clock.freeze(start)
    async with collecting(collector, ["SPY"]):
        await until(lambda: collector.get_stats()["option_ticks"]["collected"] >= 30)
        contracts = {i.db_id: i.con_id for i in collector.sampler.instruments.values()
                     if i.is_option}  # fmt: skip
        underlying = next(i for i in collector.sampler.instruments.values() if not i.is_option)
        for step in range(1, 6):
            # simulated seconds apart (the simulator sends greeks at most every 0.25 s)
            at = start + timedelta(seconds=step)
            sim.clock.freeze(at)
            expected = {db_id: _expected_option(sim.model.quote(con_id, at))
                        for db_id, con_id in contracts.items()}  # fmt: skip
            q = sim.model.quote(underlying.con_id, at)

            async def published(expected: dict[int, Any] = expected, q: Quote = q) -> bool:
                latest = await _latest_rows(db)
                if set(latest) != set(expected):
                    return False
                if any({k: latest[c][k] for k in e} != e for c, e in expected.items()):
                    return False
                async with db.raw() as conn:
                    last = await conn.fetchrow(
                        "SELECT price, bid_price, ask_price FROM stock_data_ticks "
                        "ORDER BY time DESC LIMIT 1"
                    )
                return last is not None and tuple(last) == (q.last, q.bid, q.ask)

            await _eventually(published)
    assert len(contracts) == 30
    rows = await _rows(db, "market_data_ticks", "contract_id")
    stock = await _rows(db, "stock_data_ticks", "underlying_id")
    assert all(r["delta"] is not None and r["open_interest"] for r in rows[-30:])
    stats = collector.get_stats()
    assert stats["option_ticks"]["inserted"] == len(rows) == stats["option_ticks"]["collected"]
    assert stats["stock_ticks"]["inserted"] == len(stock)
    assert stats["ticks_inserted"] == stats["ticks_collected"] == len(rows) + len(stock)
    assert stats["collection_active"] is False and stats["buffer_size"] == 0


async def test_only_changed_contracts_make_rows(
    sim: SimServer, ib: IB, db: Database, tmp_path: Path
) -> None:
    sim.clock.freeze(datetime.now(UTC))  # nothing changes while frozen
    collector = OptionsDataCollector(db, ib, small_config(tmp_path, max_contracts_per_symbol=10))
    async with collecting(collector, ["SPY"]):
        await until(lambda: collector.get_stats()["coverage"]["covered"] == 10)
        await asyncio.sleep(0.3)
        before = collector.get_stats()["ticks_collected"]
        sampled = collector.sample_seconds
        await asyncio.sleep(1.0)  # ten intervals of an unchanged market
        assert collector.get_stats()["ticks_collected"] == before
        assert collector.sample_seconds > sampled  # the sampler ran meanwhile
        assert await table_count(db, "market_data_ticks") == 10  # one row per contract
        # positive control: the same collector stores a change as soon as there is one
        sim.clock.freeze(datetime.now(UTC) + timedelta(minutes=5))
        await until(lambda: collector.get_stats()["ticks_collected"] > before)


async def test_get_stats_has_the_documented_keys(
    sim: SimServer, ib: IB, db: Database, tmp_path: Path
) -> None:
    collector = OptionsDataCollector(db, ib, small_config(tmp_path, max_contracts_per_symbol=6))
    async with collecting(collector, ["SPY", "QQQ"]):
        await until(lambda: collector.get_stats()["ticks_collected"] > 20)
        stats = collector.get_stats()
        assert stats["collection_active"] is True
    for key in ("ticks_collected", "ticks_inserted", "errors", "last_error", "active_contracts",
                "buffer_size", "collection_active", "lines_in_use", "rotations", "reconnects",
                "spooled_rows", "symbols"):  # fmt: skip
        assert key in stats
    assert stats["active_contracts"] == 12 and stats["lines_in_use"] == 14
    assert set(stats["symbols"]) == {"SPY", "QQQ"}
    final = collector.get_stats()
    assert final["symbols"]["QQQ"]["ticks"] > 0 and final["symbols"]["SPY"]["stock_ticks"] > 0
    stored = await table_count(db, "market_data_ticks") + await table_count(db, "stock_data_ticks")
    assert final["ticks_inserted"] == final["ticks_collected"] == stored


async def test_an_asyncpg_pool_works_as_the_database(
    sim: SimServer, ib: IB, db: Database, tmp_path: Path, migrated_url: Any
) -> None:
    import asyncpg

    from alc_data.db.database import asyncpg_connect_args

    pool = await asyncpg.create_pool(**asyncpg_connect_args(migrated_url), min_size=1, max_size=4)
    try:
        collector = OptionsDataCollector(
            pool, ib, small_config(tmp_path, max_contracts_per_symbol=4)
        )
        async with collecting(collector, ["SPY"]):
            await until(lambda: collector.get_stats()["ticks_collected"] > 5)
        assert collector.get_stats()["ticks_inserted"] == await table_count(
            db, "market_data_ticks"
        ) + await table_count(db, "stock_data_ticks")
    finally:
        await pool.close()


async def test_rediscovery_keeps_the_universe_streaming(
    sim: SimServer, ib: IB, db: Database, tmp_path: Path
) -> None:
    config = small_config(tmp_path, max_contracts_per_symbol=5, rediscover_every=0.5)
    collector = OptionsDataCollector(db, ib, config)
    async with collecting(collector, ["SPY"]):
        await until(lambda: collector.get_stats()["rediscoveries"] >= 2)
        before = collector.get_stats()["ticks_collected"]
        await until(lambda: collector.get_stats()["ticks_collected"] > before + 10)
        stats = collector.get_stats()
        assert stats["active_contracts"] == 5 and stats["lines_in_use"] == 6
        assert stats["discovery_errors"] == {}
