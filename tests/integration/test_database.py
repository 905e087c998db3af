"""``Database``: from a URL, around a caller's asyncpg pool, lifecycle and raw connections."""

from __future__ import annotations

import asyncpg
import pytest
from sqlalchemy import select, text
from sqlalchemy.engine import URL

from alc_data.config import Backend
from alc_data.db import UnderlyingSecurity
from alc_data.db.database import Database, _asyncpg_dsn


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
    pool = await asyncpg.create_pool(**_asyncpg_dsn(migrated_url), min_size=1, max_size=2)
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


async def test_identity_names_the_database_not_the_credentials(migrated_url: URL) -> None:
    from alc_data.collector import CollectorConfig

    a = Database.from_url("postgresql+asyncpg://u:secret1@db.example:5432/options")
    b = Database.from_url("postgresql+psycopg://u:secret2@db.example:5432/options")
    c = Database.from_url("postgresql+asyncpg://u:secret1@db.example:5432/other")
    assert a.identity == b.identity != c.identity
    assert "secret" not in a.identity
    pool = await asyncpg.create_pool(**_asyncpg_dsn(migrated_url), min_size=1, max_size=1)
    try:
        pooled = Database.from_pool(pool)
        assert pooled.identity != a.identity and len(pooled.identity) == 16
    finally:
        await pool.close()
    for db in (a, b, c):
        await db.close()
    # The collector's default spool is per database, so rows never replay into another one.
    config = CollectorConfig()
    assert config.spool_directory(1, a.identity) != config.spool_directory(1, c.identity)
