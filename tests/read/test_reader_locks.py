"""A reader holds no lock between reads: partition maintenance, retention and migrations never
wait for a long-lived ArrowReader (on either path)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from alc_data.read import ArrowReader
from tests.support.market import DAY0, Market


async def _exclusive_lock_within(engine: AsyncEngine, table: str, lock_timeout: str) -> bool:
    """Whether another session gets ACCESS EXCLUSIVE on ``table`` within ``lock_timeout``
    (what DROP/TRUNCATE and partition DDL need), releasing it at once."""
    async with engine.connect() as conn:
        await conn.execute(text(f"SET lock_timeout = '{lock_timeout}'"))
        try:
            await conn.execute(text(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE"))
        except Exception as exc:  # the lock timeout (SQLSTATE 55P03), reported as not granted
            if "lock timeout" not in str(exc):
                raise
            return False
        finally:
            await conn.rollback()
        return True


async def test_a_reader_between_reads_blocks_nobody(
    reader: ArrowReader, market: Market, engine: AsyncEngine
) -> None:
    frame = reader.ticks(market.contract_ids, start=DAY0, end=DAY0 + timedelta(days=3))
    assert frame.num_rows > 0
    assert await _exclusive_lock_within(engine, "market_data_ticks", "2s")
    # positive control: a session that does hold a read lock is waited for (and times out)
    async with engine.connect() as holder:
        await holder.execute(text("SELECT count(*) FROM market_data_ticks"))  # opens a txn
        assert not await _exclusive_lock_within(engine, "market_data_ticks", "200ms")
        await holder.rollback()
    # and after a read the caller stopped early (a replay abandoned mid-way)
    batches = reader.connection.stream(
        "SELECT * FROM market_data_ticks ORDER BY time", batch_rows=7
    )
    next(batches)
    batches.close()
    assert await _exclusive_lock_within(engine, "market_data_ticks", "2s")
