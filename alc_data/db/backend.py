"""Choosing the storage backend once per database, and remembering the choice in ``alc_meta``."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.engine import Connection

from alc_data.config import Backend
from alc_data.errors import BackendUnavailableError

#: The oldest TimescaleDB release alc-data supports (columnstore API, ``CALL`` policies).
MIN_TIMESCALEDB = (2, 18)


def timescaledb_available(conn: Connection) -> bool:
    """True when ``CREATE EXTENSION timescaledb`` can succeed here (or it already exists)."""
    installed = conn.execute(
        text("SELECT 1 FROM pg_extension WHERE extname = 'timescaledb'")
    ).scalar()
    if installed:
        return True
    available = conn.execute(
        text("SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb'")
    ).scalar()
    if not available:
        return False
    preload = conn.execute(text("SHOW shared_preload_libraries")).scalar() or ""
    return "timescaledb" in str(preload)


def resolve_backend(conn: Connection, requested: Backend) -> Backend:
    """The backend to build: ``requested``, or for ``auto`` TimescaleDB when it can be created.

    Raises:
        BackendUnavailableError: TimescaleDB was requested but cannot be created here.
    """
    if requested is Backend.POSTGRES:
        return Backend.POSTGRES
    if timescaledb_available(conn):
        return Backend.TIMESCALE
    if requested is Backend.TIMESCALE:
        raise BackendUnavailableError(
            "ALC_BACKEND=timescale, but the timescaledb extension is not installed and "
            "preloaded on this server (shared_preload_libraries); use ALC_BACKEND=postgres "
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
