"""The SQL every revision executes on a fresh plain-PostgreSQL database is the SQL in the
golden files (see tests/golden_migrations.py)."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.engine import URL

from alc_data.db.migrate import StatementLog
from tests.support.golden_migrations import GOLDEN, UPDATE, compare, revisions, run_step


def test_every_revision_emits_its_frozen_sql(database_factory: Callable[[], URL]) -> None:
    url = database_factory()
    log = StatementLog()
    order = revisions()
    for revision in order:  # one step at a time up ...
        run_step(url, "upgrade", revision, log)
    for _ in order:  # ... and down again
        run_step(url, "downgrade", "-1", log)
    captured = {(r, d) for r, d, _ in log.steps}
    assert captured == {(r, d) for r in order for d in ("up", "down")}
    assert all(statements for _, _, statements in log.steps)
    assert compare("postgres", log.steps) == [], (
        "a revision's SQL changed: an old revision must never change what it does (copy the "
        "builder it used into the revision). A new revision: ALC_UPDATE_GOLDEN=1 pytest ..."
    )
    if not UPDATE:  # positive control: the files are there and hold real statements
        assert len(list((GOLDEN / "postgres").glob("*.sql"))) == 2 * len(order)
