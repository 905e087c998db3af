"""``validate --compare A B``: two sources sampled on a common as-of grid."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncEngine

from alc_data import Database, OptionTick, TickWriter
from alc_data.db.sources import SourceSpec, register_source
from alc_data.errors import UnknownSourceError
from alc_data.validation.compare import compare_sources, mids_agree
from tests.support.writing import seed_contracts

T0 = datetime(2024, 3, 7, 15, 0, tzinfo=UTC)
S = timedelta(seconds=1)


@pytest.fixture
async def db(clean_db: AsyncEngine, migrated_url: URL) -> AsyncIterator[Database]:
    database = Database.from_url(migrated_url)
    yield database
    await database.close()


async def _write(db: Database, source: SourceSpec, rows: list[OptionTick]) -> None:
    source_id = await register_source(db.engine, source)
    async with TickWriter(db, source_id=source_id) as writer:
        await writer.put_many(rows)


async def two_sources(db: Database) -> None:
    _, (both, only_a, _) = await seed_contracts(db)
    await _write(db, SourceSpec("ib-sim", "simulator"), [
        OptionTick(both, T0, 1.00, 1.10),
        OptionTick(both, T0 + 5 * S, 2.00, 2.10),
        OptionTick(only_a, T0, 3.00, 3.10),
    ])  # fmt: skip
    await _write(db, SourceSpec("vendor-x", "vendor"), [
        OptionTick(both, T0 + S / 2, 1.00, 1.12),
        OptionTick(both, T0 + 7 * S, 2.50, 2.60),
        OptionTick(both, T0 + 8 * S, None, 2.60),  # one-sided: not a quote to compare
    ])  # fmt: skip


def test_tolerance_is_a_cent_or_one_percent_whichever_is_larger() -> None:
    assert mids_agree(1.00, 1.01) and not mids_agree(1.00, 1.0201)
    assert mids_agree(10.00, 10.10) and not mids_agree(10.00, 10.12)


async def test_agreement_share_differences_and_worst(db: Database) -> None:
    await two_sources(db)
    result = await compare_sources(db, "ib-sim", "vendor-x", start=T0, end=T0 + 10 * S)
    assert (result.contracts, result.instants, result.agreeing) == (1, 10, 5)
    data = result.as_json()
    assert data["agreement_share"] == 0.5
    assert data["mid_difference_median"] == pytest.approx(0.01)
    assert data["mid_difference_p99"] == pytest.approx(0.99)
    assert data["spread_difference_median"] == pytest.approx(0.02)
    assert data["spread_difference_p99"] == pytest.approx(0.02)
    first = result.worst[0]
    assert (first.time, first.mid_a, first.mid_b) == (T0 + 5.5 * S, 2.05, 1.06)
    assert len(result.worst) == 5
    assert sorted(w.difference for w in result.worst) == pytest.approx([0.5] * 3 + [0.99] * 2)
    coarse = await compare_sources(db, "ib-sim", "vendor-x", start=T0, end=T0 + 10 * S,
                                   grid=5 * S)  # fmt: skip
    assert coarse.instants == 2
    with pytest.raises(UnknownSourceError):
        await compare_sources(db, "ib-sim", "nobody", start=T0, end=T0 + S)


async def test_the_command_prints_the_comparison(db: Database) -> None:
    await two_sources(db)
    env = {**os.environ, "ALC_DATABASE_URL": db.engine.url.render_as_string(hide_password=False)}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "alc_data.cli", "validate", "--compare", "ib-sim", "vendor-x",
        "--start", T0.isoformat(), "--end", (T0 + 10 * S).isoformat(), "--json",
        env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await process.communicate()
    assert process.returncode == 0, err.decode()
    report = json.loads(out.decode().strip().splitlines()[-1])
    assert (report["contracts"], report["instants"], report["agreement_share"]) == (1, 10, 0.5)
