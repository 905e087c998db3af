"""``alc_ensure_partition`` that every concurrent caller survives (plain PostgreSQL).

Revision 0003's function checked for the partition, took an advisory lock on its name and
created it; a caller that waited for the lock kept a stale view of the catalog, so it tried to
create the partition again and failed (``duplicate_table``), and callers queued behind a long
reader transaction without limit, blocking every new reader behind them. This one:

- treats ``duplicate_table`` as "another caller created it" (returns false);
- waits at most ``lock_timeout = 2s`` for a lock, then steps out of the lock queue, sleeps a
  little and tries again (up to 5 attempts, then ``lock_not_available``, SQLSTATE 55P03).

The SQL is written out here, not built by the library, so that this revision never changes.
On TimescaleDB the function is a no-op (chunks are created by the extension): nothing to do.

Revision ID: 0004
Revises: 0003
"""

from collections.abc import Sequence

from alembic import op

from alc_data.config import Backend
from alc_data.db.backend import recorded_backend

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ENSURE_PARTITION = """
CREATE OR REPLACE FUNCTION alc_ensure_partition(tbl text, at timestamptz) RETURNS boolean
LANGUAGE plpgsql
SET lock_timeout = '2s'
AS $$
DECLARE
    period text := alc_partition_period(tbl);
    lo timestamp;
    part text;
    attempt integer := 0;
BEGIN
    IF period IS NULL THEN
        RAISE EXCEPTION 'table % is not partitioned by alc-data', tbl USING ERRCODE = '42P01';
    END IF;
    lo := date_trunc(period, at AT TIME ZONE 'UTC');
    part := tbl || '_p' || to_char(lo, CASE period WHEN 'day' THEN 'YYYYMMDD' ELSE 'YYYYMM' END);
    LOOP
        IF to_regclass(quote_ident(part)) IS NOT NULL THEN
            RETURN false;
        END IF;
        BEGIN
            -- Two callers may want the same new partition: serialise them on its name.
            PERFORM pg_advisory_xact_lock(hashtext(part));
            EXECUTE format(
                'CREATE TABLE %I PARTITION OF %I FOR VALUES FROM (%L) TO (%L)',
                part, tbl,
                lo AT TIME ZONE 'UTC',
                (lo + ('1 ' || period)::interval) AT TIME ZONE 'UTC'
            );
            RETURN true;
        EXCEPTION
            WHEN duplicate_table THEN
                RETURN false;  -- a concurrent caller created it meanwhile
            WHEN lock_not_available THEN
                -- A long transaction holds the parent table: leave the lock queue (where this
                -- request would hold up every new reader of the table) and try again shortly.
                attempt := attempt + 1;
                IF attempt >= 5 THEN
                    RAISE;
                END IF;
                PERFORM pg_sleep(0.2 * attempt);
        END;
    END LOOP;
END
$$"""

#: Revision 0003's function, restored by the downgrade.
ENSURE_PARTITION_0003 = """
CREATE OR REPLACE FUNCTION alc_ensure_partition(tbl text, at timestamptz) RETURNS boolean
LANGUAGE plpgsql AS $$
DECLARE
    period text := alc_partition_period(tbl);
    lo timestamp;
    part text;
BEGIN
    IF period IS NULL THEN
        RAISE EXCEPTION 'table % is not partitioned by alc-data', tbl USING ERRCODE = '42P01';
    END IF;
    lo := date_trunc(period, at AT TIME ZONE 'UTC');
    part := tbl || '_p' || to_char(lo, CASE period WHEN 'day' THEN 'YYYYMMDD' ELSE 'YYYYMM' END);
    IF to_regclass(quote_ident(part)) IS NOT NULL THEN
        RETURN false;
    END IF;
    -- Two writers may want the same new partition: serialise them on its name.
    PERFORM pg_advisory_xact_lock(hashtext(part));
    IF to_regclass(quote_ident(part)) IS NOT NULL THEN
        RETURN false;
    END IF;
    EXECUTE format(
        'CREATE TABLE %I PARTITION OF %I FOR VALUES FROM (%L) TO (%L)',
        part, tbl,
        lo AT TIME ZONE 'UTC',
        (lo + ('1 ' || period)::interval) AT TIME ZONE 'UTC'
    );
    RETURN true;
END
$$"""


def upgrade() -> None:
    """Replace the function on plain PostgreSQL."""
    if recorded_backend(op.get_bind()) is Backend.POSTGRES:
        op.execute(ENSURE_PARTITION)


def downgrade() -> None:
    """Restore revision 0003's function on plain PostgreSQL (0003's text, as released)."""
    if recorded_backend(op.get_bind()) is Backend.POSTGRES:
        op.execute(ENSURE_PARTITION_0003)
