"""The columnar read path on the TimescaleDB engine: the cursor fallback (no COPY) gives the
object API's answers on compressed and uncompressed chunks, and the snapshot is a per-contract
index seek on both kinds of chunk (EXPLAIN)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta

import pyarrow as pa
import pytest
from sqlalchemy import text
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from alc_data.db import snapshot_sql
from alc_data.db.source_filter import source_filter
from alc_data.read import ArrowReader
from alc_data.repositories import (
    OptionChainRepository,
    OptionTick,
    OptionTickRepository,
    StockTick,
    StockTickRepository,
)

pytestmark = [pytest.mark.timescale, pytest.mark.timeout(300)]

DAY1 = datetime(2024, 3, 4, 14, 30, tzinfo=UTC)  # compressed
DAY2 = DAY1 + timedelta(days=1)  # left uncompressed


async def _seed(engine: AsyncEngine) -> list[int]:
    async with AsyncSession(engine) as session, session.begin():
        uid = (await session.execute(text(
            "INSERT INTO underlying_securities (symbol) VALUES ('SPY') RETURNING id"
        ))).scalar_one()  # fmt: skip
        ids = []
        for k, right in [(500, "C"), (500, "P"), (510, "C"), (510, "P")]:
            ids.append((await session.execute(text(
                "INSERT INTO option_chains (underlying_id, expiration_date, strike_price, "
                "option_type, trading_class) VALUES (:u, :e, :k, :r, 'SPY') RETURNING id"
            ), {"u": uid, "e": date(2024, 3, 15), "k": k, "r": right})).scalar_one())  # fmt: skip
        ticks = [
            OptionTick(cid, day + timedelta(seconds=37 * i + n), 1.0 + i / 100 + n,
                       1.1 + i / 100 + n, volume=i)
            for day in (DAY1, DAY2) for i in range(40) for n, cid in enumerate(ids)
        ]  # fmt: skip
        await OptionTickRepository(session).add_many(ticks)
        await StockTickRepository(session).add_many([StockTick(uid, DAY1, 505.0)])
    async with engine.begin() as conn:
        first = await conn.scalar(text(
            "SELECT show_chunks('market_data_ticks', older_than => TIMESTAMPTZ "
            "'2024-03-05 00:00+00')::text"
        ))  # fmt: skip
        await conn.execute(text(f"CALL convert_to_columnstore('{first}')"))
    return ids


@pytest.fixture
async def seeded(ts_engine: AsyncEngine) -> AsyncIterator[list[int]]:
    ids = await _seed(ts_engine)
    yield ids
    async with ts_engine.begin() as conn:
        for table in ("market_data_ticks", "stock_data_ticks"):
            await conn.execute(text(f"SELECT drop_chunks('{table}', older_than => now())"))
        await conn.execute(
            text("TRUNCATE option_chains, underlying_securities RESTART IDENTITY CASCADE")
        )


@pytest.mark.parametrize("copy", [False, None], ids=["cursor", "probed"])
async def test_cursor_fallback_answers_like_the_object_api(
    ts_engine: AsyncEngine, ts_migrated: URL, seeded: list[int], copy: bool | None
) -> None:
    start, end = DAY1 - timedelta(hours=1), DAY2 + timedelta(hours=1)
    with ArrowReader.connect(ts_migrated, copy=copy, batch_rows=25) as reader:
        assert reader.connection.copy is (False if copy is False else reader.connection.copy)
        frame = reader.ticks(symbol="SPY", start=start, end=end)
        replayed = pa.Table.from_batches(
            list(reader.replay("SPY", start=start, end=end, prefetch=0))
        )
        snaps = {
            at: reader.chain_snapshot("SPY", as_of=at)
            for at in (DAY1 + timedelta(minutes=9), DAY2 + timedelta(hours=2))
        }
    # The reader's connection is closed: the engine serves one connection at a time.
    async with AsyncSession(ts_engine) as session:
        repo = OptionTickRepository(session)
        expected = [t for cid in seeded for t in await repo.ticks(cid, start=start, end=end)]
        objects = {
            at: await OptionChainRepository(session).chain_snapshot("SPY", as_of=at) for at in snaps
        }
    expected.sort(key=lambda t: (t.time, t.contract_id))
    assert frame.num_rows == 320
    assert [tuple(r.values()) for r in frame.to_pylist()] == [tuple(t) for t in expected]
    assert replayed.equals(frame)
    for at, snap in objects.items():
        quotes = snaps[at].quotes.to_pylist()
        assert len(snap.quotes) == 4
        assert [tuple(r.values()) for r in quotes] == [tuple(q) for q in snap.quotes]


async def test_snapshot_is_a_per_contract_seek_on_every_kind_of_chunk(
    ts_engine: AsyncEngine, seeded: list[int]
) -> None:
    async with ts_engine.connect() as conn:
        source_id = await conn.scalar(text("SELECT source_id FROM market_data_ticks LIMIT 1"))
    sql = snapshot_sql.TICK_QUOTES.format(
        contracts=snapshot_sql.contract_columns(), underlying_id="1",
        trade_date="DATE '2024-03-05'", expiry="CAST(NULL AS date)",
        as_of="TIMESTAMPTZ '2024-03-05 16:00+00'", oldest="TIMESTAMPTZ '1970-01-01 00:00+00'",
        ticks_source=source_filter(int(source_id), "m"),
    )  # fmt: skip
    async with ts_engine.connect() as conn:
        compressed = await conn.scalar(text(
            "SELECT count(*) FROM timescaledb_information.chunks "
            "WHERE hypertable_name = 'market_data_ticks' AND is_compressed"
        ))  # fmt: skip
        plan = "\n".join((await conn.execute(text(f"EXPLAIN {sql}"))).scalars())
    assert compressed == 1  # one compressed chunk, one not
    assert "Seq Scan on _hyper" not in plan, plan  # no chunk is read whole
    # The compressed chunk (DecompressChunk, called ColumnarScan since 2.22): only the
    # contract's segment is decompressed, found by an index seek on the compressed chunk.
    node = "DecompressChunk" if "DecompressChunk" in plan else "ColumnarScan"
    below = plan.split(f"Custom Scan ({node})", 1)[1]
    assert "Index Scan using compress_hyper" in below, plan
    assert "Index Cond: ((contract_id = c.id)" in below, plan
    # The uncompressed chunk: a backward scan of its primary key, from the contract's newest.
    above = plan.split(f"Custom Scan ({node})", 1)[0]
    assert "Index Scan Backward" in above and "Index Cond: ((contract_id = c.id)" in above, plan
