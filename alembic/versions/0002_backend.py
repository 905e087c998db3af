"""Choose the storage backend for this database and record it in ``alc_meta``.

``ALC_BACKEND`` (``auto`` by default) decides: ``auto`` uses TimescaleDB when ``CREATE
EXTENSION timescaledb`` succeeds here (installed and loadable), else native partitioning. With
TimescaleDB the version is checked (>= 2.18). Whether this revision created the extension is
recorded, so that downgrading removes it only then.

Revision ID: 0002
Revises: 0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import context, op

from alc_data.config import Backend
from alc_data.db import timescale
from alc_data.db.backend import resolve_backend, timescaledb_version, write_meta

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_KEYS = ("backend", "timescaledb_version", "timescaledb_created_by_migration")


def _requested_backend() -> Backend:
    return Backend(context.config.attributes.get("backend", Backend.AUTO.value))


def upgrade() -> None:
    """Resolve ``ALC_BACKEND`` and record the choice."""
    conn = op.get_bind()
    preexisting = timescaledb_version(conn) is not None
    backend = resolve_backend(conn, _requested_backend())
    write_meta(conn, "backend", backend.value)
    if backend is Backend.TIMESCALE:
        version = timescaledb_version(conn)
        assert version is not None  # resolve_backend created it
        timescale.check_version(version)
        write_meta(conn, "timescaledb_version", version)
        write_meta(conn, "timescaledb_created_by_migration", str(not preexisting).lower())


def downgrade() -> None:
    """Forget the choice; drop the extension if this revision created it."""
    conn = op.get_bind()
    created = conn.execute(
        sa.text("SELECT value FROM alc_meta WHERE key = 'timescaledb_created_by_migration'")
    ).scalar()
    if created == "true":
        op.execute("DROP EXTENSION IF EXISTS timescaledb")
    conn.execute(sa.text("DELETE FROM alc_meta WHERE key = ANY(:keys)"), {"keys": list(_KEYS)})
