"""``Database``: one object that owns the engine, the sessions and raw connections for COPY.

Built from Settings, from a URL, or around an existing ``asyncpg.Pool`` (so that code written
against the original documentation, ``OptionsDataCollector(db_pool, ib)``, keeps working).
Nothing connects until first use.
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from types import TracebackType
from typing import Any, Self

import asyncpg
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import NullPool

from alc_data.config import Backend, Settings, load_settings, with_driver


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
        self.sessions = async_sessionmaker(engine, expire_on_commit=False)
        self.settings = settings if settings is not None else load_settings()
        self._url = url
        self._pool = pool
        self._owns_pool = False
        self._backend: Backend | None = None

    # construction -------------------------------------------------------------------------

    @classmethod
    def from_url(
        cls, url: URL | str, *, settings: Settings | None = None, **engine_kw: Any
    ) -> Self:
        """A database at ``url`` (any PostgreSQL URL; the asyncpg driver is used)."""
        url = with_driver(make_url(url) if isinstance(url, str) else url, "asyncpg")
        engine_kw.setdefault("pool_size", 10)
        engine_kw.setdefault("pool_pre_ping", True)
        return cls(create_async_engine(url, **engine_kw), url=url, settings=settings)

    @classmethod
    def from_settings(cls, settings: Settings | None = None, **engine_kw: Any) -> Self:
        """The configured database, or the embedded PostgreSQL when none is configured."""
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
        """A raw asyncpg connection (for COPY), from the wrapped pool or a private one."""
        pool = await self._raw_pool()
        async with pool.acquire() as conn:
            yield conn

    @property
    def identity(self) -> str:
        """A short, stable name for *which* database this is (no credentials), for files that
        must never be applied to another database, such as the collector's spool."""
        if self._url is not None:
            where = self._url.set(drivername="postgresql", password=None)
            text_form = where.render_as_string(hide_password=True)
        else:  # a caller's pool: its connection parameters, minus any password
            args = getattr(self._pool, "_connect_args", ()) or ()
            kwargs = dict(getattr(self._pool, "_connect_kwargs", {}) or {})
            kwargs.pop("password", None)
            dsn = str(args[0]) if args else ""
            dsn = make_url(dsn).set(password=None).render_as_string() if "://" in dsn else dsn
            text_form = f"{dsn}|{sorted((k, str(v)) for k, v in kwargs.items())}"
        return hashlib.sha256(text_form.encode()).hexdigest()[:16]

    async def backend(self) -> Backend:
        """The backend recorded by the migrations (``alc_meta``), read once.

        Raises:
            SchemaError: the schema is not migrated.
        """
        if self._backend is None:
            from alc_data.db.rollups import recorded_backend

            self._backend = await recorded_backend(self.engine)
        return self._backend

    async def _raw_pool(self) -> asyncpg.Pool:
        if self._pool is None:
            assert self._url is not None
            self._pool = await asyncpg.create_pool(
                **_asyncpg_dsn(self._url), min_size=1, max_size=4
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
        where = self._url.render_as_string(hide_password=True) if self._url else "asyncpg pool"
        return f"Database({where})"


def _asyncpg_dsn(url: URL) -> dict[str, Any]:
    """Keyword arguments for ``asyncpg.connect`` from an SQLAlchemy URL (Unix sockets too)."""
    query = dict(url.query)
    kwargs: dict[str, Any] = {
        "user": url.username,
        "password": url.password,
        "database": url.database,
        "host": query.pop("host", None) or url.host,
        "port": url.port,
    }
    return {k: v for k, v in kwargs.items() if v is not None}
