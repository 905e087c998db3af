"""``Database``: from a URL, around a caller's asyncpg pool, lifecycle and raw connections."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable

import asyncpg
import pytest
from sqlalchemy import select, text
from sqlalchemy.engine import URL

from alc_data.config import Backend, with_driver
from alc_data.db import UnderlyingSecurity
from alc_data.db.database import Database, asyncpg_connect_args


async def test_from_url_sessions_raw_and_backend(migrated_url: URL, clean_db: object) -> None:
    async with Database.from_url(migrated_url) as db:
        async with db.session() as session:
            session.add(UnderlyingSecurity(symbol="SPY", sec_type="STK"))
        async with db.connect() as conn:
            symbols = (await conn.execute(select(UnderlyingSecurity.symbol))).scalars().all()
        assert symbols == ["SPY"]
        async with db.raw() as raw:
            assert await raw.fetchval("SELECT count(*) FROM underlying_securities") == 1
        assert await db.backend() is Backend.POSTGRES
        assert "Database(" in repr(db)


async def test_session_rolls_back_on_error(migrated_url: URL, clean_db: object) -> None:
    async with Database.from_url(migrated_url) as db:
        with pytest.raises(RuntimeError):
            async with db.session() as session:
                session.add(UnderlyingSecurity(symbol="QQQ", sec_type="STK"))
                await session.flush()
                raise RuntimeError("boom")
        async with db.connect() as conn:
            assert await conn.scalar(text("SELECT count(*) FROM underlying_securities")) == 0


async def test_wraps_a_callers_pool_without_leaking(migrated_url: URL, clean_db: object) -> None:
    pool = await asyncpg.create_pool(**asyncpg_connect_args(migrated_url), min_size=1, max_size=2)
    try:
        db = Database.coerce(pool)
        # More sessions than the pool holds: each connection must go back to the pool.
        for i in range(6):
            async with db.session() as session:
                session.add(UnderlyingSecurity(symbol=f"S{i}", sec_type="STK"))
        async with db.raw() as raw:
            assert await raw.fetchval("SELECT count(*) FROM underlying_securities") == 6
        await db.close()
        # The caller's pool still works after the Database is closed.
        async with pool.acquire() as conn:
            assert await conn.fetchval("SELECT 1") == 1
    finally:
        await pool.close()


async def test_identity_is_the_database_not_the_spelling_of_its_url(
    migrated_url: URL, database_factory: Callable[[], URL]
) -> None:
    from alc_data.collector import CollectorConfig

    spellings = [
        migrated_url,
        migrated_url.set(host="localhost"),  # another name for the same server
        migrated_url.set(password="ignored-by-trust", query={"command_timeout": "30"}),
        with_driver(migrated_url, "psycopg"),
    ]
    other = database_factory()
    dbs = [Database.from_url(u) for u in [*spellings, other]]
    pool = await asyncpg.create_pool(**asyncpg_connect_args(migrated_url), min_size=1, max_size=1)
    try:
        dbs.append(Database.from_pool(pool))
        ids = [await db.identity() for db in dbs]
    finally:
        for db in dbs:
            await db.close()
        await pool.close()
    same, different = [*ids[:4], ids[5]], ids[4]
    assert len({i.key for i in same}) == 1 and different.key != same[0].key
    assert same[0].name == migrated_url.database and same[0].system_identifier is not None
    assert different.system_identifier == same[0].system_identifier  # one server, two databases
    assert "ignored-by-trust" not in same[0].key + same[0].describe()
    # The collector's default spool is per database, so rows never replay into another one.
    config = CollectorConfig()
    assert config.spool_directory(1, same[0].key) != config.spool_directory(1, different.key)


async def test_concurrent_first_raw_calls_share_one_pool(migrated_url: URL) -> None:
    app = f"alc-raw-{uuid.uuid4().hex[:8]}"  # the engine's connect_args reach raw() too
    settings = {"server_settings": {"application_name": app}}
    db = Database.from_url(migrated_url, connect_args=settings)

    async def first_use() -> int:
        async with db.raw() as conn:
            await asyncio.sleep(0.05)  # hold it, so that the callers overlap
            return int(await conn.fetchval("SELECT pg_backend_pid()"))

    pids = set(await asyncio.gather(*(first_use() for _ in range(4))))
    assert await _alive(migrated_url, pids, app, wait=False) == pids  # positive control
    await db.close()
    assert await _alive(migrated_url, pids, app, wait=True) == set()  # nothing left open


async def _alive(url: URL, pids: set[int], application_name: str, *, wait: bool) -> set[int]:
    """The backends among ``pids`` still connected; with ``wait``, polls for up to 10 s for
    them to go (a closed backend leaves pg_stat_activity a moment after its client)."""
    conn = await asyncpg.connect(**asyncpg_connect_args(url))
    try:
        for _ in range(500 if wait else 1):
            rows = await conn.fetch(
                "SELECT pid FROM pg_stat_activity WHERE pid = ANY($1) AND application_name = $2",
                list(pids),
                application_name,
            )
            alive = {int(r["pid"]) for r in rows}
            if not alive:
                break
            await asyncio.sleep(0.02)
        return alive
    finally:
        await conn.close()


async def test_raw_connections_keep_the_urls_tls_requirement(migrated_url: URL) -> None:
    """The test server speaks no TLS: ``?ssl=require`` must make the COPY path fail too,
    never fall back to plain text."""
    plain = Database.from_url(migrated_url)
    async with plain.raw() as conn:  # positive control: the same URL without the option
        assert await conn.fetchval("SELECT 1") == 1
    await plain.close()
    strict = Database.from_url(migrated_url.set(query={"ssl": "require"}))
    try:
        with pytest.raises((ConnectionError, OSError, asyncpg.PostgresError)):
            async with strict.raw() as conn:
                await conn.fetchval("SELECT 1")
    finally:
        await strict.close()
