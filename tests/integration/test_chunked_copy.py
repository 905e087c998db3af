"""``ChunkedCopy``: every recovery branch, each caused by the real database or an injected
fault. Every row ends up written, a duplicate, rejected (named) or unwritten (kept)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from typing import Any

import asyncpg
import pytest
from sqlalchemy.engine import URL

from alc_data import Database, OptionTick, TickWriter
from alc_data.errors import DatabaseUnavailableError, UnknownRowReferenceError
from alc_data.repositories import ChunkedCopy, CopyOutcome
from tests.support.db_proxy import DbProxy
from tests.support.writing import T0, count, seed_contracts

pytestmark = pytest.mark.timeout(60)
Row = tuple[Any, ...]


@pytest.fixture
async def db(migrated_url: URL, clean_db: object) -> AsyncIterator[Database]:
    async with Database.from_url(migrated_url) as database:
        yield database


def _copy(db: Database, chunk_rows: int = 1000) -> ChunkedCopy:
    return ChunkedCopy(db, TickWriter.target, chunk_rows=chunk_rows, write_timeout=5)


def _rows(cid: int, n: int, start: int = 0) -> list[OptionTick]:
    return [OptionTick(cid, T0 + timedelta(seconds=start + i), 1.0, 1.1) for i in range(n)]


def _every_row_once(outcome: CopyOutcome, given: int) -> None:
    total = outcome.written + outcome.duplicates + len(outcome.rejected) + len(outcome.unwritten)
    assert total == given


def _inject(
    copy: ChunkedCopy, monkeypatch: pytest.MonkeyPatch, fault: Callable[..., Any]
) -> list[int]:
    """Wrap the COPY statement: ``fault(call_number, rows)`` runs before each real write."""
    real, calls = copy.sql.write, []

    async def write(conn: Any, rows: list[Row], *, idempotent: bool) -> int:
        calls.append(len(rows))
        await fault(len(calls), rows)
        return await real(conn, rows, idempotent=idempotent)

    monkeypatch.setattr(copy.sql, "write", write)
    return calls


async def test_rows_already_stored_go_through_the_idempotent_path(db: Database) -> None:
    _, (cid, *_) = await seed_contracts(db)
    copy = _copy(db)
    first = await copy.write(_rows(cid, 10), idempotent=False)
    again = await copy.write(_rows(cid, 15), idempotent=False)  # 10 stored + 5 new: 23505
    assert (first.written, again.written, again.duplicates) == (10, 5, 10)
    _every_row_once(again, 15)


async def test_a_partition_dropped_under_the_copy_is_created_again(db: Database) -> None:
    _, (cid, *_) = await seed_contracts(db)
    copy = _copy(db)
    assert (await copy.write(_rows(cid, 5), idempotent=False)).written == 5
    async with db.raw() as conn:  # maintenance drops the day the copy remembers
        await conn.execute("DELETE FROM market_data_ticks")
        await conn.execute("DROP TABLE market_data_ticks_p20240311")
    outcome = await copy.write(_rows(cid, 5, start=100), idempotent=False)  # 23514: repaired
    assert outcome.written == 5 and outcome.error is None
    assert await count(db, "market_data_ticks") == 5


async def test_a_reference_gone_after_it_was_verified_is_rejected_by_name(db: Database) -> None:
    _, (cid, gone, *_) = await seed_contracts(db)
    copy = _copy(db)
    assert (await copy.write([*_rows(cid, 2), *_rows(gone, 2)], idempotent=False)).written == 4
    async with db.raw() as conn:
        await conn.execute("DELETE FROM market_data_ticks WHERE contract_id = $1", gone)
        await conn.execute("DELETE FROM option_chains WHERE id = $1", gone)
    orphans = _rows(gone, 3, start=10)
    outcome = await copy.write([*_rows(cid, 3, start=10), *orphans], idempotent=False)  # 23503
    assert outcome.written == 3 and {r.row for r in outcome.rejected} == set(orphans)
    assert all(isinstance(r, UnknownRowReferenceError) for r in outcome.rejected)
    _every_row_once(outcome, 6)


async def test_a_row_the_database_refuses_is_isolated_by_splitting(db: Database) -> None:
    _, (cid, *_) = await seed_contracts(db)
    bad = OptionTick(cid, T0 - timedelta(seconds=1), 1.7e308, 1.7e308)  # mid_price overflows
    outcome = await _copy(db).write([*_rows(cid, 63), bad], idempotent=False)
    assert outcome.written == 63 and [r.row for r in outcome.rejected] == [bad]
    assert "refused by the database" in str(outcome.rejected[0])


async def test_a_serialization_failure_is_retried(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, (cid, *_) = await seed_contracts(db)
    copy = _copy(db)

    async def conflict_once(call: int, rows: list[Row]) -> None:
        if call == 1:
            raise asyncpg.exceptions.SerializationError("could not serialize access")

    calls = _inject(copy, monkeypatch, conflict_once)
    outcome = await copy.write(_rows(cid, 20), idempotent=True)
    assert outcome.written == 20 and calls == [20, 20]


async def test_a_serialization_failure_that_persists_leaves_the_rows_unwritten(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, (cid, *_) = await seed_contracts(db)
    copy = _copy(db)

    async def always(call: int, rows: list[Row]) -> None:
        raise asyncpg.exceptions.DeadlockDetectedError("deadlock detected")

    calls = _inject(copy, monkeypatch, always)
    rows = _rows(cid, 20)
    outcome = await copy.write(rows, idempotent=True)
    assert outcome.unwritten == rows and outcome.written == 0 and len(calls) == 6
    assert outcome.error is not None


@pytest.mark.parametrize("lost_in", ["first half", "second half"])
async def test_a_connection_lost_in_either_half_of_a_split_keeps_exactly_the_unwritten_rows(
    lost_in: str, db: Database, migrated_url: URL, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, (cid, *_) = await seed_contracts(db)
    proxy = DbProxy(migrated_url)
    through = Database.from_url(await proxy.start(), pool_pre_ping=False)
    copy = _copy(through)
    good = _rows(cid, 100)
    bad = OptionTick(cid, T0 - timedelta(seconds=1), 1.7e308, 1.7e308)  # forces a split
    rows = [*good, bad]  # split into rows[:50] and rows[50:]

    async def sever(call: int, part: list[Row]) -> None:
        # call 1: the whole chunk (refused); call 2: the first half; call 3: the second
        if (lost_in == "first half" and call == 2) or (lost_in == "second half" and call == 3):
            await proxy.sever()

    _inject(copy, monkeypatch, sever)
    try:
        outcome = await copy.write(rows, idempotent=True)
    finally:
        await through.close()
        await proxy.sever()
    assert isinstance(outcome.error, DatabaseUnavailableError)
    if lost_in == "first half":
        assert outcome.written == 0 and outcome.unwritten == rows
    else:
        assert outcome.written == 50 and outcome.unwritten == rows[50:]
    _every_row_once(outcome, len(rows))
    assert await count(db, "market_data_ticks") == outcome.written
    retry = await _copy(db).write(outcome.unwritten, idempotent=True)  # nothing twice
    assert retry.written == 100 - outcome.written and [r.row for r in retry.rejected] == [bad]
