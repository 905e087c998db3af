"""Revisions read the backend and the retention horizon from their caller, never from the
environment: the library call takes arguments, the Alembic command line takes ``-x`` options
and, for what those leave unset, its documented environment."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL

from alc_data.config import with_driver
from alc_data.db import migrate

pytestmark = pytest.mark.timeout(180)
ROOT = Path(__file__).resolve().parents[2]


def _backend(url: URL) -> str | None:
    engine = create_engine(with_driver(url, "psycopg"))
    try:
        with engine.connect() as conn:
            value: str | None = conn.scalar(
                text("SELECT value FROM alc_meta WHERE key = 'backend'")
            )
            return value
    finally:
        engine.dispose()


def _alembic(url: URL, *argv: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    rendered = url.render_as_string(hide_password=False)
    return subprocess.run(
        [sys.executable, "-m", "alembic", "-x", f"url={rendered}", *argv],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=150,
    )  # fmt: skip


def test_the_library_call_ignores_the_environment(
    database_factory: Callable[[], URL], monkeypatch: pytest.MonkeyPatch
) -> None:
    """ALC_BACKEND=timescale in the environment of a program that calls ``migrate.upgrade``
    without asking for TimescaleDB builds the plain PostgreSQL schema (this server has no
    TimescaleDB); asking by argument is what is obeyed (positive control)."""
    monkeypatch.setenv("ALC_BACKEND", "timescale")
    url = database_factory()
    migrate.upgrade(url, "head")
    assert _backend(url) == "postgres"

    other = database_factory()
    with pytest.raises(Exception, match="timescaledb"):
        migrate.upgrade(other, "head", backend="timescale")


def test_the_alembic_command_line_takes_x_options_then_its_environment(
    database_factory: Callable[[], URL],
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ALC_", "DB_"))}
    url = database_factory()
    refused = _alembic(url, "upgrade", "head", env={**env, "ALC_BACKEND": "timescale"})
    assert refused.returncode != 0 and "timescaledb" in (refused.stdout + refused.stderr).lower()
    assert _backend(url) is None or _backend(url) != "timescale"

    done = _alembic(
        url, "-x", "backend=postgres", "upgrade", "head", env={**env, "ALC_BACKEND": "timescale"}
    )
    assert done.returncode == 0, done.stderr
    assert _backend(url) == "postgres"


def test_a_bad_x_option_is_one_clear_line(database_factory: Callable[[], URL]) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ALC_", "DB_"))}
    url = database_factory()
    bad = _alembic(url, "-x", "retention_days=soon", "upgrade", "head", env=env)
    assert bad.returncode != 0
    said = bad.stdout + bad.stderr
    assert "retention_days must be a positive integer, not 'soon'" in said
    assert "Traceback" not in said
    assert migrate.database_revision(url) is None  # nothing was migrated
