"""``Database``: one object that owns the engine, the sessions and raw connections for COPY.

Built from Settings, from a URL, or around an existing ``asyncpg.Pool`` (so that code written
against the original documentation, ``OptionsDataCollector(db_pool, ib)``, keeps working).
Nothing connects until first use.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self

import asyncpg
from sqlalchemy.dialects.postgresql.asyncpg import PGDialect_asyncpg
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import NullPool

from alc_data.config import (
    Backend,
    Settings,
    default_settings,
    load_settings,
    redact_url,
    with_driver,
)
from alc_data.db.translate import translating
from alc_data.errors import AlcDataError


@dataclass(frozen=True)
class DatabaseIdentity:
    """Which database this is, however its URL is spelled.

    Attributes:
        key: a file-name-safe key: the server's system identifier and the database name.
        system_identifier: ``pg_control_system().system_identifier`` (None where the server
            does not say; the key then falls back to the server's address).
        name: ``current_database()``.
    """

    key: str
    system_identifier: int | None
    name: str

    def describe(self) -> str:
        """A line for people: the database name and the server it lives on."""
        server = self.system_identifier if self.system_identifier is not None else "unknown"
        return f"database {self.name!r} on server {server}"


class _PooledConnection:
    """An asyncpg pool connection whose ``close()`` gives it back to its pool.

    SQLAlchemy closes the DBAPI connections it no longer needs; for a connection borrowed from
    a caller's pool that must mean "release", never "terminate".
    """

    def __init__(self, pool: asyncpg.Pool, connection: Any) -> None:
        self._pool = pool
        self._connection = connection

    def __getattr__(self, name: str) -> Any:
        return getattr(self._connection, name)

    async def close(self, **_: Any) -> None:
        await self._pool.release(self._connection)

    def terminate(self) -> None:
        self._connection.terminate()


class Database:
    """The database alc-data reads and writes.

    Use ``async with Database.from_settings() as db:`` or call :meth:`close` when done.

    Attributes:
        engine: the SQLAlchemy ``AsyncEngine`` (asyncpg driver).
        sessions: an ``async_sessionmaker`` bound to the engine; the caller owns transactions.
    """

    def __init__(
        self,
        engine: AsyncEngine,
        *,
        url: URL | None = None,
        pool: asyncpg.Pool | None = None,
        settings: Settings | None = None,
    ) -> None:
        self.engine = engine
        self.settings = settings if settings is not None else default_settings()
        # Reads that choose a source find the configured default here (source_choice).
        default_source = {"alc_default_source": self.settings.database.default_source}
        self.sessions = async_sessionmaker(engine, expire_on_commit=False, info=default_source)
        self._url = url
        self._pool = pool
        self._owns_pool = False
        self._pool_lock = asyncio.Lock()
        self._connect_args: dict[str, Any] = {}
        self._backend: Backend | None = None
        self._identity: DatabaseIdentity | None = None

    # construction -------------------------------------------------------------------------

    @classmethod
    def from_url(
        cls, url: URL | str, *, settings: Settings | None = None, **engine_kw: Any
    ) -> Self:
        """A database at ``url`` (any PostgreSQL URL; the asyncpg driver is used)."""
        url = with_driver(make_url(url) if isinstance(url, str) else url, "asyncpg")
        engine_kw.setdefault("pool_size", 10)
        engine_kw.setdefault("pool_pre_ping", True)
        db = cls(create_async_engine(url, **engine_kw), url=url, settings=settings)
        db._connect_args = dict(engine_kw.get("connect_args") or {})
        return db

    @classmethod
    def from_settings(cls, settings: Settings | None = None, **engine_kw: Any) -> Self:
        """The configured database, or the embedded PostgreSQL when none is configured.

        The one explicit opt-in to the environment for strategy code: ``settings`` defaults to
        :func:`~alc_data.config.load_settings` (every other constructor defaults to the
        documented defaults and never reads the environment)."""
        from alc_data.db.migrate import settings_url

        settings = settings if settings is not None else load_settings()
        return cls.from_url(settings_url(settings), settings=settings, **engine_kw)

    @classmethod
    def from_pool(cls, pool: asyncpg.Pool, *, settings: Settings | None = None) -> Self:
        """Wrap a caller's ``asyncpg.Pool``: sessions and raw connections borrow from it."""

        async def borrow() -> Any:
            return _PooledConnection(pool, await pool.acquire())

        engine = create_async_engine(
            "postgresql+asyncpg://", async_creator=borrow, poolclass=NullPool
        )
        return cls(engine, pool=pool, settings=settings)

    @classmethod
    def coerce(cls, db: Database | asyncpg.Pool | AsyncEngine | URL | str) -> Database:
        """Accept what the documented constructors accept: a Database, a pool, an engine, a URL."""
        if isinstance(db, Database):
            return db
        if isinstance(db, asyncpg.Pool):
            return cls.from_pool(db)
        if isinstance(db, AsyncEngine):
            return cls(db, url=db.url)
        return cls.from_url(db)

    # use ----------------------------------------------------------------------------------

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """A session in a transaction that commits on success and rolls back on error."""
        async with self.sessions() as session, session.begin():
            yield session

    def connect(self) -> AsyncConnection:
        """``async with db.connect() as conn``: an ``AsyncConnection`` (autobegin, no commit)."""
        return self.engine.connect()

    def begin(self) -> Any:  # an async context manager yielding AsyncConnection
        """``async with db.begin() as conn``: an ``AsyncConnection`` in a committed transaction."""
        return self.engine.begin()

    @asynccontextmanager
    async def raw(self) -> AsyncIterator[asyncpg.Connection]:
        """A raw asyncpg connection (for COPY), from the wrapped pool or a private one.

        The private pool is created once (concurrent first callers share it) with the same
        connection arguments as the engine, TLS and other URL options included.
        """
        pool = await self._raw_pool()
        async with pool.acquire() as conn:
            yield conn

    async def identity(self) -> DatabaseIdentity:
        """Which database this is, asked of the server (read once).

        The same database under any spelling of its URL (host alias, driver, credentials,
        options) has one identity. Files that must never be applied to another database,
        such as the collector's spool, are keyed by it.

        Raises:
            DatabaseUnavailableError: the database cannot be reached.
        """
        if self._identity is None:
            with translating():
                async with self.raw() as conn:
                    self._identity = await _read_identity(conn)
        return self._identity

    async def backend(self) -> Backend:
        """The backend recorded by the migrations (``alc_meta``), read once.

        Raises:
            SchemaError: the schema is not migrated.
            DatabaseUnavailableError: the database cannot be reached.
        """
        if self._backend is None:
            from alc_data.db.rollups import recorded_backend

            self._backend = await recorded_backend(self.engine)
        return self._backend

    async def _raw_pool(self) -> asyncpg.Pool:
        if self._pool is None:
            async with self._pool_lock:  # concurrent first callers: one pool, never several
                if self._pool is None:
                    if self._url is None:
                        raise AlcDataError("this Database has neither a URL nor a pool")
                    self._pool = await asyncpg.create_pool(
                        **asyncpg_connect_args(self._url, self._connect_args),
                        min_size=1,
                        max_size=4,
                    )
                    self._owns_pool = True
        return self._pool

    async def close(self) -> None:
        """Dispose of the engine and of the raw pool alc-data created (never the caller's)."""
        await self.engine.dispose()
        if self._owns_pool and self._pool is not None:
            await self._pool.close()
            self._pool = None
            self._owns_pool = False

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    def __repr__(self) -> str:
        where = redact_url(self._url) if self._url else "asyncpg pool"
        return f"Database({where})"


def asyncpg_connect_args(url: URL, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """Keyword arguments for ``asyncpg.connect`` / ``create_pool`` from an SQLAlchemy URL.

    Derived exactly as the engine derives its own, so that TLS options (``?ssl=require``),
    Unix-socket hosts and ``prepared_statement_cache_size`` mean the same on both paths.
    ``extra`` are the engine's ``connect_args``.
    """
    _, kwargs = _DIALECT.create_connect_args(with_driver(url, "asyncpg"))  # type: ignore[no-untyped-call]
    kwargs.update(extra or {})
    cache = kwargs.pop("prepared_statement_cache_size", None)
    kwargs.pop("prepared_statement_name_func", None)
    if cache is not None:
        kwargs["statement_cache_size"] = int(cache)
    return dict(kwargs)


_DIALECT = PGDialect_asyncpg()  # type: ignore[no-untyped-call]
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]")


async def _read_identity(conn: asyncpg.Connection) -> DatabaseIdentity:
    name = str(await conn.fetchval("SELECT current_database()"))
    try:
        sysid = await conn.fetchval("SELECT system_identifier FROM pg_control_system()")
    except asyncpg.PostgresError:  # not granted to this role, or not offered by the engine
        sysid = None
    if sysid is not None:
        server = str(sysid)
    else:
        where = await conn.fetchval(
            "SELECT coalesce(host(inet_server_addr()), 'local') || ':' || current_setting('port')"
        )
        server = "addr-" + hashlib.sha256(str(where).encode()).hexdigest()[:16]
    slug = _UNSAFE.sub("_", name)[:40]
    if slug != name:  # keep distinct names distinct after cleaning
        slug += "-" + hashlib.sha256(name.encode()).hexdigest()[:8]
    return DatabaseIdentity(
        key=f"{server}-{slug}", system_identifier=None if sysid is None else int(sysid), name=name
    )
