"""Every public entry point says what went wrong in alc-data's own terms: a database that is
down is ``DatabaseUnavailableError``, one that is not migrated is ``SchemaError``."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.engine import URL

from alc_data import Database, DataValidator
from alc_data.cli import main
from alc_data.db.maintenance import maintain
from alc_data.db.rollups import refresh_all
from alc_data.errors import DatabaseUnavailableError, SchemaError
from alc_data.report import build_report, data_stats

NOW = datetime(2026, 11, 20, 16, tzinfo=UTC)
DOWN = "postgresql+asyncpg://trader:pw@127.0.0.1:1/options"  # nothing listens on port 1


async def _quality(db: Database) -> Any:
    return await DataValidator(db).run_quality_check(hours_back=1, now=NOW)


async def _report(db: Database) -> Any:
    async with db.connect() as conn:
        return await build_report(conn, hours=1, now=NOW)


async def _stats(db: Database) -> Any:
    async with db.connect() as conn:
        return await data_stats(conn)


async def _maintain(db: Database) -> Any:
    return await maintain(db.engine, retention_days=None)


async def _refresh(db: Database) -> Any:
    return await refresh_all(db.engine, NOW - timedelta(hours=1), NOW)


async def _backend(db: Database) -> Any:
    return await db.backend()


CALLS: dict[str, Callable[[Database], Awaitable[Any]]] = {
    "run_quality_check": _quality, "backend": _backend, "maintain": _maintain,
    "refresh_all": _refresh,
}  # fmt: skip
ON_A_CONNECTION = {"build_report": _report, "data_stats": _stats}


@pytest.mark.parametrize("call", sorted(CALLS))
async def test_a_database_that_is_down(call: str) -> None:
    async with Database.from_url(DOWN, pool_pre_ping=False) as db:
        with pytest.raises(DatabaseUnavailableError):
            await CALLS[call](db)


@pytest.mark.parametrize("call", sorted({**CALLS, **ON_A_CONNECTION}))
async def test_a_database_that_is_not_migrated(
    call: str, database_factory: Callable[[], URL], migrated_url: URL, clean_db: object
) -> None:
    run = {**CALLS, **ON_A_CONNECTION}[call]
    async with Database.from_url(migrated_url) as migrated:
        await run(migrated)  # positive control: the same call works on a migrated database
    async with Database.from_url(database_factory()) as db:
        with pytest.raises(SchemaError):
            await run(db)


@pytest.mark.parametrize("argv", [["report"], ["db", "maintain"], ["validate"], ["stats"]])
def test_commands_on_an_unmigrated_database_say_so(
    argv: list[str],
    database_factory: Callable[[], URL],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("ALC_DATABASE_URL", database_factory().render_as_string(hide_password=False))
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert "SchemaError" in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
