"""Choosing the storage backend once per database, and remembering the choice in ``alc_meta``."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError

from alc_data.config import Backend
from alc_data.errors import BackendUnavailableError


def timescaledb_version(conn: Connection) -> str | None:
    """The installed TimescaleDB extension's version in this database, or None."""
    version = conn.execute(
        text("SELECT extversion FROM pg_extension WHERE extname = 'timescaledb'")
    ).scalar()
    return None if version is None else str(version)


def create_timescaledb(conn: Connection) -> bool:
    """Create the timescaledb extension if it can be; True when it exists afterwards.

    Being listed in ``pg_available_extensions`` is not enough: the library must also load
    (normally it is preloaded). The attempt runs in a savepoint so that a refusal leaves the
    migration's transaction usable. It is not undone on success: some engines refuse to load
    the library twice in one session.
    """
    if timescaledb_version(conn) is not None:
        return True
    available = conn.execute(
        text("SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb'")
    ).scalar()
    if not available:
        return False
    try:
        with conn.begin_nested():
            conn.execute(text("CREATE EXTENSION IF NOT EXISTS timescaledb"))
    except DBAPIError:
        return False
    return True


def resolve_backend(conn: Connection, requested: Backend) -> Backend:
    """The backend to build: ``requested``, or for ``auto`` TimescaleDB when it can be created
    (in which case the extension now exists).

    Raises:
        BackendUnavailableError: TimescaleDB was requested but cannot be created here.
    """
    if requested is Backend.POSTGRES:
        return Backend.POSTGRES
    if create_timescaledb(conn):
        return Backend.TIMESCALE
    if requested is Backend.TIMESCALE:
        raise BackendUnavailableError(
            "ALC_BACKEND=timescale, but the timescaledb extension cannot be created here (it "
            "must be installed and listed in shared_preload_libraries); use ALC_BACKEND=postgres "
            "or auto for native partitioning"
        )
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
