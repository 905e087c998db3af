"""Choosing the storage backend once per database, and remembering the choice in ``alc_meta``."""

from __future__ import annotations

import logging

from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError

from alc_data.config import Backend
from alc_data.errors import BackendUnavailableError

log = logging.getLogger(__name__)


def timescaledb_version(conn: Connection) -> str | None:
    """The installed TimescaleDB extension's version in this database, or None."""
    version = conn.execute(
        text("SELECT extversion FROM pg_extension WHERE extname = 'timescaledb'")
    ).scalar()
    return None if version is None else str(version)


def timescaledb_installed(conn: Connection) -> bool:
    """True when the server offers the timescaledb extension (``pg_available_extensions``)."""
    return bool(
        conn.execute(
            text("SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb'")
        ).scalar()
    )


def timescaledb_unloadable(conn: Connection) -> str | None:
    """Why ``CREATE EXTENSION timescaledb`` cannot succeed here, or None when it can be tried.

    TimescaleDB's loader ends the session with a FATAL (which no savepoint can catch) when its
    library is not preloaded, so that is checked first, with TimescaleDB's own rule: the
    library is listed in ``shared_preload_libraries``, or
    ``timescaledb.allow_install_without_preload`` is on.
    """
    if not timescaledb_installed(conn):
        return "the timescaledb extension is not installed on this server"
    preload = str(conn.execute(text("SELECT current_setting('shared_preload_libraries')")).scalar())
    if any(_library_name(entry) == "timescaledb" for entry in preload.split(",")):
        return None
    allowed = conn.execute(
        text("SELECT current_setting('timescaledb.allow_install_without_preload', true)")
    ).scalar()
    if str(allowed).lower() in ("on", "true", "1"):
        return None
    return (
        "the timescaledb extension is installed but not preloaded (shared_preload_libraries = "
        f"{preload!r}); add timescaledb to shared_preload_libraries and restart the server"
    )


def _library_name(entry: str) -> str:
    """``'$libdir/timescaledb-2.17.0.so'`` -> ``'timescaledb'``."""
    name = entry.strip().strip('"').rsplit("/", 1)[-1]
    name = name.removesuffix(".so").removesuffix(".dylib").removesuffix(".dll")
    return name.split("-", 1)[0]


def create_timescaledb(conn: Connection) -> str | None:
    """Create the timescaledb extension if it can be; None when it exists afterwards, else
    the reason it cannot be created here.

    The attempt is made only when the library can load (:func:`timescaledb_unloadable`),
    and runs in a savepoint so that a refusal leaves the migration's transaction usable. It
    is not undone on success: some engines refuse to load the library twice in one session.
    """
    if timescaledb_version(conn) is not None:
        return None
    reason = timescaledb_unloadable(conn)
    if reason is not None:
        return reason
    try:
        with conn.begin_nested():
            conn.execute(text("CREATE EXTENSION IF NOT EXISTS timescaledb"))
    except DBAPIError as exc:
        if not conn.in_transaction() or conn.invalidated:
            raise  # the connection itself is gone: not a reason to choose another backend
        first = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        return f"CREATE EXTENSION timescaledb failed: {first}"
    return None


def resolve_backend(conn: Connection, requested: Backend) -> Backend:
    """The backend to build: ``requested``, or for ``auto`` TimescaleDB when it can be created
    (in which case the extension now exists). When ``auto`` falls back to native
    partitioning on a server that has TimescaleDB installed, it says why in one log line.

    Raises:
        BackendUnavailableError: TimescaleDB was requested but cannot be created here.
    """
    if requested is Backend.POSTGRES:
        return Backend.POSTGRES
    reason = create_timescaledb(conn)
    if reason is None:
        return Backend.TIMESCALE
    if requested is Backend.TIMESCALE:
        raise BackendUnavailableError(
            f"ALC_BACKEND=timescale, but TimescaleDB cannot be used here: {reason} (or use "
            "ALC_BACKEND=postgres or auto for native partitioning)"
        )
    if timescaledb_installed(conn):
        log.warning("building native partitions instead of TimescaleDB: %s", reason)
    return Backend.POSTGRES


def recorded_backend(conn: Connection) -> Backend | None:
    """The backend recorded in ``alc_meta`` by the migrations, or None before they ran."""
    exists = conn.execute(text("SELECT to_regclass('alc_meta')")).scalar()
    if exists is None:
        return None
    value = conn.execute(text("SELECT value FROM alc_meta WHERE key = 'backend'")).scalar()
    return Backend(value) if value else None


def write_meta(conn: Connection, key: str, value: str) -> None:
    """Insert or replace one ``alc_meta`` entry."""
    conn.execute(
        text(
            "INSERT INTO alc_meta (key, value) VALUES (:key, :value) "
            "ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value"
        ),
        {"key": key, "value": value},
    )
