"""Helpers of the collector tests (imported by the tests and by conftest)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

from alc_data import Database
from alc_data.collector import CollectorConfig, OptionsDataCollector


def small_config(tmp_path: Path, **overrides: Any) -> CollectorConfig:
    """A small universe near the money, fast intervals, a private spool."""
    base = CollectorConfig(
        interval_ms=100, expiry_range_days=10, strike_range_percent=0.03, max_lines=100,
        max_contracts_per_symbol=30, dwell=1.0, settle=0.15, spool_dir=tmp_path / "spool",
        reconnect_initial=0.1, reconnect_max=1.0, stop_timeout=5.0, rediscover_every=3600,
    )  # fmt: skip
    return base.with_(**overrides)


async def until(condition: Callable[[], object], within: float = 10.0) -> None:
    """Wait until ``condition()`` is true, failing after ``within`` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not condition():
        if loop.time() > deadline:
            raise AssertionError(f"condition not met within {within} s")
        await asyncio.sleep(0.02)


@contextlib.asynccontextmanager
async def collecting(
    collector: OptionsDataCollector, symbols: list[str]
) -> AsyncIterator[asyncio.Task[None]]:
    """Run ``start_collection`` in a task until the block ends, then stop (and flush)."""
    task = asyncio.create_task(collector.start_collection(symbols))
    streaming = asyncio.create_task(collector.wait_streaming())
    await asyncio.wait({task, streaming}, return_when=asyncio.FIRST_COMPLETED, timeout=60)
    streaming.cancel()
    if task.done():
        await task  # raise what failed
    try:
        yield task
    finally:
        await collector.stop_collection()
        await task


async def table_count(db: Database, table: str) -> int:
    """Rows in ``table``."""
    async with db.raw() as conn:
        return int(await conn.fetchval(f"SELECT count(*) FROM {table}"))
