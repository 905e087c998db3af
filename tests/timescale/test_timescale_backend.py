"""The TimescaleDB form of the schema, on a real TimescaleDB engine."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import insert, text
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

from alc_data.db import MarketDataTick, OptionContract, UnderlyingSecurity, migrate
from alc_data.db.rollups import refresh_rollup

pytestmark = [pytest.mark.timescale, pytest.mark.timeout(180)]

DATA_TABLES = {"market_data_ticks", "stock_data_ticks", "option_bars", "stock_bars"}
AGGREGATES = {"market_data_1min", "market_data_5min", "stock_data_1min"}


async def _fetch(url: URL, sql: str, **params: Any) -> list[Any]:
    engine = create_async_engine(url, poolclass=NullPool)
    try:
        async with engine.connect() as conn:
            return list((await conn.execute(text(sql), params)).all())
    finally:
        await engine.dispose()


def _set_of(rows: list[Any]) -> set[Any]:
    return {r[0] for r in rows}


async def test_check_down_up_check(ts_migrated: URL) -> None:
    assert migrate.check(ts_migrated) is None
    meta = dict(await _fetch(ts_migrated, "SELECT key, value FROM alc_meta"))
    assert meta["backend"] == "timescale"
    retention = await _fetch(
        ts_migrated,
        "SELECT hypertable_name FROM timescaledb_information.jobs "
        "WHERE proc_name = 'policy_retention'",
    )
    assert _set_of(retention) == {"market_data_ticks", "stock_data_ticks"}

    migrate.downgrade(ts_migrated, "0002")  # every time-series object, not the extension
    assert await _fetch(ts_migrated, "SELECT to_regclass('market_data_ticks')") == [(None,)]
    left = await _fetch(
        ts_migrated,
        "SELECT count(*) FROM timescaledb_information.jobs WHERE hypertable_name IS NOT NULL",
    )
    assert left == [(0,)]
    migrate.upgrade(ts_migrated, "head", backend="timescale")
    assert migrate.check(ts_migrated) is None


async def test_catalog(ts_migrated: URL) -> None:
    hypertables = await _fetch(
        ts_migrated,
        "SELECT h.hypertable_name, d.time_interval, h.compression_enabled "
        "FROM timescaledb_information.hypertables h "
        "JOIN timescaledb_information.dimensions d USING (hypertable_schema, hypertable_name) "
        "WHERE h.hypertable_schema = 'public'",
    )
    by_name = {r[0]: r for r in hypertables}
    assert set(by_name) == DATA_TABLES
    assert by_name["market_data_ticks"][1] == timedelta(days=1)
    assert by_name["option_bars"][1] == timedelta(days=30)
    assert all(r[2] for r in hypertables)  # columnstore enabled

    # No default time index: only the primary key on each hypertable.
    indexes = await _fetch(
        ts_migrated,
        "SELECT tablename, indexname FROM pg_indexes WHERE schemaname = 'public' "
        "AND tablename IN ('market_data_ticks', 'stock_data_ticks', 'option_bars', 'stock_bars')",
    )
    assert {r[1] for r in indexes} == {f"pk_{t}" for t in DATA_TABLES}

    settings = await _fetch(
        ts_migrated,
        "SELECT hypertable::text, segmentby, orderby "
        "FROM timescaledb_information.hypertable_columnstore_settings",
    )
    by_table = {r[0]: r for r in settings}
    # One segment per contract and source (revision 0006).
    assert by_table["market_data_ticks"][1] == "contract_id,source_id"
    assert by_table["stock_data_ticks"][1] == "underlying_id,source_id"
    assert by_table["option_bars"][1] == "contract_id,source_id,what_to_show,bar_size"
    assert by_table["market_data_ticks"][2] == '"time" DESC'

    caggs = await _fetch(
        ts_migrated,
        "SELECT view_name, materialized_only FROM timescaledb_information.continuous_aggregates",
    )
    assert {r[0] for r in caggs} == AGGREGATES and not any(r[1] for r in caggs)

    jobs = await _fetch(
        ts_migrated,
        "SELECT proc_name, hypertable_name, config FROM timescaledb_information.jobs "
        "WHERE hypertable_name IS NOT NULL",
    )
    columnstore = {r[1] for r in jobs if r[0] == "policy_compression"}
    refresh = {r[1]: r[2] for r in jobs if r[0] == "policy_refresh_continuous_aggregate"}
    assert columnstore == DATA_TABLES
    assert set(refresh) == AGGREGATES
    assert refresh["market_data_1min"]["end_offset"] == "00:01:00"


async def _seed(engine: AsyncEngine, start: datetime, minutes: int) -> int:
    async with engine.begin() as conn:
        underlying = await conn.scalar(
            insert(UnderlyingSecurity)
            .values(symbol="SPX", sec_type="IND")
            .returning(UnderlyingSecurity.id)
        )
        contract = await conn.scalar(
            insert(OptionContract)
            .values(
                underlying_id=underlying,
                expiration_date=start.date() + timedelta(days=30),
                strike_price=Decimal("5000"),
                option_type="P",
                trading_class="SPXW",
            )
            .returning(OptionContract.id)
        )
        # The non-COPY path: an executemany INSERT, one tick every 10 seconds.
        await conn.execute(
            insert(MarketDataTick),
            [
                {
                    "contract_id": contract,
                    "time": start + timedelta(seconds=10 * i),
                    "bid_price": 10 + i / 100,
                    "ask_price": 10.2 + i / 100,
                    "volume": i,
                }
                for i in range(minutes * 6)
            ],
        )
    assert contract is not None
    return int(contract)


async def test_ticks_aggregates_and_columnstore(ts_engine: AsyncEngine) -> None:
    start = datetime(2024, 3, 4, 14, 30, tzinfo=UTC)
    contract = await _seed(ts_engine, start, minutes=10)
    try:
        # Refresh the first five minutes only; the rest is served by real-time aggregation.
        await refresh_rollup(ts_engine, "market_data_1min", start, start + timedelta(minutes=5))
        async with ts_engine.connect() as conn:
            raw = (
                await conn.execute(
                    text(
                        "SELECT time_bucket('1 minute', time) AS b, count(*), "
                        "min(mid_price), max(mid_price) FROM market_data_ticks "
                        "GROUP BY b ORDER BY b"
                    )
                )
            ).all()
            bars = (
                await conn.execute(
                    text(
                        "SELECT bucket, tick_count, low, high, open, close "
                        "FROM market_data_1min WHERE contract_id = :c ORDER BY bucket"
                    ),
                    {"c": contract},
                )
            ).all()
        assert [(b.bucket, b.tick_count) for b in bars] == [(r[0], r[1]) for r in raw]
        assert len(bars) == 10
        for bar, row in zip(bars, raw, strict=True):
            assert bar.low == pytest.approx(row[2]) and bar.high == pytest.approx(row[3])
        assert bars[0].open == pytest.approx(10.1) and bars[0].close == pytest.approx(10.15)

        # Compress (convert to the columnstore) the chunk and read the same data back.
        async with ts_engine.begin() as conn:
            chunks = (
                (await conn.execute(text("SELECT show_chunks('market_data_ticks')::text")))
                .scalars()
                .all()
            )
            assert len(chunks) == 1
            await conn.execute(text(f"CALL convert_to_columnstore('{chunks[0]}')"))
        async with ts_engine.connect() as conn:
            stats = (
                await conn.execute(
                    text(
                        "SELECT num_chunks, compressed_chunks FROM hypertable_stats "
                        "WHERE hypertable_name = 'market_data_ticks'"
                    )
                )
            ).one()
            info = (await conn.execute(text("SELECT * FROM partition_info"))).all()
            count = await conn.scalar(text("SELECT count(*) FROM market_data_ticks"))
            total = await conn.scalar(text("SELECT sum(volume) FROM market_data_ticks"))
        assert tuple(stats) == (1, 1)
        assert [(p.parent_table, p.is_compressed) for p in info] == [("market_data_ticks", True)]
        assert info[0].range_start == datetime(2024, 3, 4, tzinfo=UTC)
        assert count == 60 and total == sum(range(60))
    finally:
        async with ts_engine.begin() as conn:
            await conn.execute(text("SELECT drop_chunks('market_data_ticks', older_than => now())"))
            await conn.execute(
                text("TRUNCATE option_chains, underlying_securities RESTART IDENTITY CASCADE")
            )


async def test_original_documentation_sql(ts_engine: AsyncEngine) -> None:
    async with ts_engine.begin() as conn:
        await conn.execute(text("SELECT * FROM hypertable_stats"))
        await conn.execute(
            text(
                "SELECT * FROM data_quality_metrics "
                "WHERE check_timestamp > NOW() - INTERVAL '1 hour'"
            )
        )
        await conn.execute(text("SELECT * FROM partition_info ORDER BY tablename"))
        created = await conn.scalar(
            text("SELECT create_partition_range('market_data_ticks', '2024-01-01', '2024-12-31')")
        )
        dropped = await conn.scalar(text("SELECT drop_old_partitions('market_data_ticks', 24)"))
    assert created == 0 and dropped == 0


async def test_maintenance_functions_refuse_bad_arguments(ts_engine: AsyncEngine) -> None:
    from sqlalchemy.exc import DBAPIError

    for sql in (
        "SELECT create_partition_range('underlying_securities', '2024-01-01', '2024-01-02')",
        "SELECT drop_old_partitions('market_data_ticks', -1)",
    ):
        async with ts_engine.connect() as conn:
            with pytest.raises(DBAPIError):
                await conn.execute(text(sql))


async def test_db_status_shows_the_timescale_objects(ts_engine: AsyncEngine) -> None:
    from alc_data.db.status import database_status, render_status

    async with ts_engine.connect() as conn:
        status = await database_status(conn)
    assert status["backend"] == "timescale" and status["compression"] == "columnstore"
    assert {t["hypertable_name"] for t in status["time_series"]} == DATA_TABLES
    assert all(t["compression_enabled"] for t in status["time_series"])
    windows = {a["view_name"]: a for a in status["aggregates"]}
    assert set(windows) == AGGREGATES
    assert windows["market_data_1min"]["refresh_start_offset"] == "02:00:00"
    assert windows["market_data_1min"]["refresh_end_offset"] == "00:01:00"
    assert not windows["market_data_5min"]["materialized_only"]
    procs = {(j["proc_name"], j["hypertable_name"]) for j in status["jobs"]}
    assert {("policy_compression", t) for t in DATA_TABLES} <= procs
    assert {("policy_refresh_continuous_aggregate", a) for a in AGGREGATES} <= procs
    text_out = render_status(status)
    assert "continuous aggregates" in text_out and "policy_compression" in text_out


async def test_maintain_on_timescale(ts_engine: AsyncEngine) -> None:
    from alc_data.db.maintenance import maintain

    now = datetime.now(UTC).replace(microsecond=0)
    old = now - timedelta(days=20)
    await _seed(ts_engine, old, minutes=2)
    async with ts_engine.begin() as conn:
        contract = await conn.scalar(text("SELECT max(id) FROM option_chains"))
        await conn.execute(
            insert(MarketDataTick),
            [{"contract_id": contract, "time": now - timedelta(minutes=30) + timedelta(seconds=i),
              "bid_price": 1.0, "ask_price": 1.2} for i in range(30)],
        )  # fmt: skip
    try:
        report = await maintain(ts_engine, retention_days=10, refresh_hours=2, now=now)
        assert report.backend == "timescale" and report.partitions_created == {}
        assert report.rollups_refreshed == [
            "market_data_1min",
            "market_data_5min",
            "stock_data_1min",
        ]
        assert report.partitions_dropped["market_data_ticks"] == 1  # the 20-day-old chunk
        async with ts_engine.connect() as conn:
            assert await conn.scalar(text("SELECT count(*) FROM market_data_ticks")) == 30
            refreshed = await conn.scalar(
                text("SELECT sum(tick_count) FROM market_data_1min WHERE bucket >= :t"),
                {"t": now - timedelta(hours=1)},
            )
        assert refreshed == 30
    finally:
        async with ts_engine.begin() as conn:
            await conn.execute(
                text(
                    "SELECT drop_chunks('market_data_ticks', "
                    "older_than => now() + interval '1 day')"
                )
            )
            await conn.execute(
                text("TRUNCATE option_chains, underlying_securities RESTART IDENTITY CASCADE")
            )


async def test_downgrade_base_removes_everything(ts_migrated: URL) -> None:
    """Runs last: nothing the migrations made survives ``downgrade base``."""
    meta = dict(await _fetch(ts_migrated, "SELECT key, value FROM alc_meta"))
    migrate.downgrade(ts_migrated, "base")
    left = await _fetch(
        ts_migrated,
        "SELECT relname FROM pg_class WHERE relnamespace = 'public'::regnamespace "
        "AND relkind IN ('r', 'p', 'v', 'm')",
    )
    assert _set_of(left) == {"alembic_version"}
    functions = await _fetch(
        ts_migrated, "SELECT proname FROM pg_proc WHERE pronamespace = 'public'::regnamespace"
    )
    assert functions == []
    extension = await _fetch(
        ts_migrated, "SELECT 1 FROM pg_extension WHERE extname = 'timescaledb'"
    )
    assert bool(extension) == (meta["timescaledb_created_by_migration"] == "false")
