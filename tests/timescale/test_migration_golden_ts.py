"""The SQL the time-series revisions execute on TimescaleDB is the SQL in the golden files.

This engine loads the extension's library once per session, so the leg cycles the
revisions above 0002 (the time-series ones); 0001 and 0002 are covered on PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy.engine import URL

from alc_data.db import migrate
from alc_data.db.migrate import StatementLog
from tests.support.golden_migrations import compare, revisions, run_step

pytestmark = pytest.mark.timeout(300)


def test_the_time_series_revisions_emit_their_frozen_sql(
    ts_migrated: URL, monkeypatch: pytest.MonkeyPatch
) -> None:
    order = [r for r in revisions() if r not in ("0001", "0002")]
    log = StatementLog()
    for _ in order:
        run_step(ts_migrated, "downgrade", "-1", log)
    assert migrate.database_revision(ts_migrated) == "0002"
    for revision in order:
        run_step(ts_migrated, "upgrade", revision, log, retention_days=30)
    assert {(r, d) for r, d, _ in log.steps} == {(r, d) for r in order for d in ("up", "down")}
    assert compare("timescale", log.steps) == []
