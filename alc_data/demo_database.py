"""Where ``alc-data demo`` writes: its own database, never the user's.

- ``--database-url URL``: that database (the user's explicit choice);
- a configured server (``ALC_DATABASE_URL`` / ``DB_HOST``): the database ``alc_demo``
  (``ALC_DEMO_DATABASE``) on that server, created when the user may create databases, else
  a :class:`~alc_data.errors.ConfigError` asking for ``--database-url``;
- nothing configured: ``alc_demo`` on the embedded server.

``reset`` starts afresh: the demo database is dropped and created again (with
``--database-url``: every alc-data table in it is dropped, ``downgrade base --drop-data``).
The demo's rows are the simulator's (its account is ``SIMULATED``: ``alc_data.ib.provenance``).
"""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from alc_data.config import Settings, redact_url, with_driver
from alc_data.db import migrate
from alc_data.errors import ConfigError

_KEEP_ALIVE: list[Any] = []  # the embedded server, kept running while the demo runs


async def demo_url(settings: Settings, *, database_url: str | None, reset: bool) -> URL:
    """The demo's database (see the module doc), created (or reset) as needed."""
    if database_url is not None:
        url = with_driver(make_url(database_url), "asyncpg")
        if reset:
            await asyncio.to_thread(migrate.downgrade, url, "base", drop_data=True)
        return url
    name = settings.database.demo_database
    if settings.database.is_configured:
        configured = settings.database.sqlalchemy_url("asyncpg")
        await _ensure_on_server(configured, name, reset=reset)
        return configured.set(database=name)
    from alc_data.db.embedded import ensure_database, server_url, start_embedded

    server = await asyncio.to_thread(start_embedded, settings.database.data_dir)
    _KEEP_ALIVE.append(server)
    if reset:
        await asyncio.to_thread(server.psql, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await asyncio.to_thread(ensure_database, server, name)
    return server_url(server, name)


async def _ensure_on_server(configured: URL, name: str, *, reset: bool) -> None:
    engine = create_async_engine(configured, poolclass=NullPool, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            exists = await conn.scalar(
                text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}
            )
            if exists and reset:
                await conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
                exists = None
            if exists:
                return
            allowed = await conn.scalar(
                text("SELECT rolcreatedb OR rolsuper FROM pg_roles WHERE rolname = current_user")
            )
            if not allowed:
                raise ConfigError(
                    f"the demo runs in its own database {name!r}, and "
                    f"{configured.username or 'this user'} may not create databases on "
                    f"{redact_url(configured.set(database=None))}: create it "
                    f'(CREATE DATABASE "{name}") or run `alc-data demo --database-url URL`'
                )
            await conn.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        await engine.dispose()
