"""Alembic environment for alc-data.

The URL comes from (first match): a connection handed in by alc-data itself
(``config.attributes["connection"]``), ``config.attributes["url"]``, ``-x url=...``, then
alc-data's Settings (``ALC_DATABASE_URL`` or ``DB_*``), and with nothing configured the embedded
PostgreSQL. ``postgresql+asyncpg://`` and ``postgresql+psycopg://`` URLs both work.

The revisions read the backend and the retention horizon from ``config.attributes`` only (see
:func:`alc_data.db.migrate.resolve_revision_options`), never from the environment.
"""

from __future__ import annotations

import asyncio
import contextlib
from concurrent.futures import ThreadPoolExecutor

from alembic import context
from alembic.util import CommandError
from sqlalchemy import create_engine, pool
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import create_async_engine

import alc_data.db.models  # noqa: F401  (registers the models on Base.metadata)
from alc_data.db.base import Base
from alc_data.db.migrate import (
    StatementLog,
    include_name_filter,
    invalidator,
    migration_failure,
    migration_lock,
    refuse_data_loss,
    resolve_migration_url,
    resolve_revision_options,
)

config = context.config
target_metadata = Base.metadata


def _run(connection: Connection, *, owned: bool = True) -> None:
    include_name = include_name_filter(connection)
    if owned and connection.in_transaction():
        # The catalog read above auto-began a transaction; end it before configuring, so that
        # Alembic owns the transactions (one per revision, and autocommit blocks for TimescaleDB).
        connection.commit()
    # One migration at a time per database: a concurrent one waits, then finds the work done.
    with migration_lock(connection, owned=owned):
        # A downgrade that would delete stored rows needs drop_data (DataLossRefusedError).
        try:
            destination = context.get_revision_argument() or "base"  # None means base
        except KeyError:  # alembic check, revision: nothing is migrated
            destination = None
        refuse_data_loss(connection, config, destination, owned=owned)
        log: StatementLog | None = config.attributes.get("statement_log")
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            include_name=include_name,
            compare_type=True,
            transaction_per_migration=True,
            on_version_apply=[invalidator(config), *([log.step] if log else [])],
        )
        recording = log.recording(connection) if log else contextlib.nullcontext()
        with recording, context.begin_transaction():
            context.run_migrations()
        if owned and connection.in_transaction():
            connection.commit()


async def _run_async(url: str) -> None:
    engine = create_async_engine(url, poolclass=pool.NullPool)
    async with engine.connect() as connection:
        await connection.run_sync(_run)
    await engine.dispose()


def _run_coroutine_to_end(url: str) -> None:
    """Run the async migration, also when called from code that has an event loop running."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        asyncio.run(_run_async(url))
        return
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(asyncio.run, _run_async(url)).result()


def run_migrations_online() -> None:
    resolve_revision_options(config)
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection, owned=False)
        return
    url = resolve_migration_url(config)
    if make_url(url).drivername.endswith("+asyncpg"):
        _run_coroutine_to_end(url)
    else:
        engine = create_engine(url, poolclass=pool.NullPool)
        with engine.connect() as connection:
            _run(connection)
        engine.dispose()


if context.is_offline_mode():
    raise SystemExit(
        "alc-data migrations inspect the database; offline (--sql) mode is not supported"
    )
try:
    run_migrations_online()
except Exception as exc:
    failure = migration_failure(exc)
    if failure is None:
        raise
    if config.cmd_opts is not None:  # the Alembic command line: one line, not a traceback
        raise CommandError(str(failure)) from exc
    if failure is exc:
        raise
    raise failure from exc
