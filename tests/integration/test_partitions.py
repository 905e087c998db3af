"""Native partitions, maintenance functions, monitoring views and rollups on plain PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import insert, select, text
from sqlalchemy.exc import DBAPIError, StatementError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from alc_data.db import MarketDataTick, OptionContract, UnderlyingSecurity
from alc_data.db.partition_guard import PartitionGuard
from alc_data.errors import NaiveDatetimeError


async def _contract(conn: AsyncConnection) -> int:
    underlying = await conn.scalar(
        insert(UnderlyingSecurity)
        .values(symbol="SPY", sec_type="STK")
        .returning(UnderlyingSecurity.id)
    )
    contract_id = await conn.scalar(
        insert(OptionContract)
        .values(
            underlying_id=underlying,
            expiration_date=date(2030, 1, 18),
            strike_price=Decimal("450"),
            option_type="C",
            trading_class="SPY",
        )
        .returning(OptionContract.id)
    )
    assert contract_id is not None
    return int(contract_id)


def _guard_call(conn: AsyncConnection):  # type: ignore[no-untyped-def]
    async def call(table: str, at: datetime) -> bool:
        return bool(
            await conn.scalar(text("SELECT alc_ensure_partition(:t, :at)"), {"t": table, "at": at})
        )

    return call


async def _partitions(conn: AsyncConnection, parent: str) -> list[str]:
    rows = await conn.execute(
        text("SELECT tablename FROM partition_info WHERE parent_table = :p ORDER BY 1"),
        {"p": parent},
    )
    return list(rows.scalars())


async def test_writes_in_past_and_future_create_their_partitions(clean_db: AsyncEngine) -> None:
    past = datetime.now(UTC) - timedelta(days=200)
    future = datetime.now(UTC) + timedelta(days=40)
    guard = PartitionGuard()
    async with clean_db.begin() as conn:
        contract_id = await _contract(conn)
        rows = [
            {"contract_id": contract_id, "time": t, "bid_price": 1.0, "ask_price": 1.2}
            for t in (past, future)
        ]
        created = await guard.ensure(_guard_call(conn), "market_data_ticks", [past, future])
        assert created == 2
        await conn.execute(insert(MarketDataTick), rows)
        # The same periods again: remembered, nothing created, no round trip needed.
        assert await guard.ensure(_guard_call(conn), "market_data_ticks", [past, future]) == 0
        names = await _partitions(conn, "market_data_ticks")
        stored = (await conn.execute(select(MarketDataTick.mid_price))).scalars().all()
    # Beside the ones the migration made ready (yesterday to a week ahead: revision 0006).
    assert {f"market_data_ticks_p{past:%Y%m%d}", f"market_data_ticks_p{future:%Y%m%d}"} <= set(
        names
    )
    assert list(stored) == pytest.approx([1.1, 1.1])


async def test_a_row_without_partition_is_refused(clean_db: AsyncEngine) -> None:
    async with clean_db.connect() as conn:
        contract_id = await _contract(conn)
        with pytest.raises(DBAPIError) as excinfo:
            await conn.execute(
                insert(MarketDataTick).values(
                    contract_id=contract_id, time=datetime(1999, 1, 4, tzinfo=UTC)
                )
            )
        assert getattr(excinfo.value.orig, "sqlstate", None) == "23514"


async def test_naive_datetime_is_refused(clean_db: AsyncEngine) -> None:
    async with clean_db.connect() as conn:
        contract_id = await _contract(conn)
        with pytest.raises(StatementError) as excinfo:
            await conn.execute(
                insert(MarketDataTick).values(
                    contract_id=contract_id,
                    time=datetime(2024, 3, 4, 15, 0),  # naive: the point of the test
                )
            )
    assert isinstance(excinfo.value.orig, NaiveDatetimeError)


@pytest.mark.parametrize("table", ["market_data_ticks", "stock_data_ticks"])
async def test_unique_index_without_time_is_impossible(clean_db: AsyncEngine, table: str) -> None:
    key = "contract_id" if table == "market_data_ticks" else "underlying_id"
    async with clean_db.connect() as conn:
        with pytest.raises(DBAPIError) as excinfo:
            await conn.execute(text(f"CREATE UNIQUE INDEX ux_bad ON {table} ({key})"))
        assert "partition" in str(excinfo.value.orig).lower()
        assert getattr(excinfo.value.orig, "sqlstate", None) == "0A000"


async def test_create_partition_range_and_drop_old_partitions(clean_db: AsyncEngine) -> None:
    async with clean_db.begin() as conn:
        created = await conn.scalar(
            text("SELECT create_partition_range('option_bars', '2020-01-15', '2020-06-01')")
        )
        assert created == 6  # January to June 2020
        again = await conn.scalar(
            text("SELECT create_partition_range('option_bars', '2020-01-01', '2020-06-30')")
        )
        assert again == 0
        this_month = datetime.now(UTC).replace(day=1)
        await conn.execute(
            text("SELECT create_partition_range('option_bars', :a, :a)"), {"a": this_month}
        )
        dropped = await conn.scalar(text("SELECT drop_old_partitions('option_bars', 24)"))
        assert dropped == 6
        assert await _partitions(conn, "option_bars") == [f"option_bars_p{this_month:%Y%m}"]
        assert await conn.scalar(text("SELECT drop_old_partitions('option_bars', 0)")) == 0


async def test_maintenance_functions_refuse_bad_arguments(clean_db: AsyncEngine) -> None:
    async with clean_db.connect() as conn:
        for sql in (
            "SELECT create_partition_range('underlying_securities', '2024-01-01', '2024-01-02')",
            "SELECT create_partition_range('market_data_ticks', '2024-02-01', '2024-01-01')",
            "SELECT drop_old_partitions('market_data_ticks', -1)",
        ):
            with pytest.raises(DBAPIError):
                await conn.execute(text(sql))
            await conn.rollback()


async def test_monitoring_views_after_inserts(clean_db: AsyncEngine) -> None:
    start = datetime(2024, 3, 4, 14, 30, tzinfo=UTC)
    async with clean_db.begin() as conn:
        contract_id = await _contract(conn)
        await conn.execute(
            text("SELECT create_partition_range('market_data_ticks', '2024-03-04', '2024-03-05')")
        )
        await conn.execute(
            insert(MarketDataTick),
            [
                {"contract_id": contract_id, "time": start + timedelta(seconds=i), "bid_price": 1}
                for i in range(2000)
            ],
        )
    async with clean_db.connect() as conn:
        stats = (
            await conn.execute(
                text("SELECT * FROM hypertable_stats WHERE hypertable_name = 'market_data_ticks'")
            )
        ).one()
        info = (await conn.execute(text("SELECT * FROM partition_info ORDER BY tablename"))).all()
    assert stats.num_chunks == 2
    assert stats.total_bytes > 0 and stats.compression_enabled is False
    first = info[0]
    assert first.tablename == "market_data_ticks_p20240304"
    assert first.range_start == datetime(2024, 3, 4, tzinfo=UTC)
    assert first.range_end == datetime(2024, 3, 5, tzinfo=UTC)
    assert first.total_bytes > info[1].total_bytes  # the day that holds the rows


async def test_original_documentation_sql_runs(clean_db: AsyncEngine) -> None:
    async with clean_db.begin() as conn:
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
        assert created == 366
        dropped = await conn.scalar(text("SELECT drop_old_partitions('market_data_ticks', 24)"))
    # Kept: the current month and the 24 before it; dropped: the 2024 days before that.
    today = datetime.now(UTC).date()
    months = today.year * 12 + today.month - 1 - 24
    cutoff = date(months // 12, months % 12 + 1, 1)
    expected = max(0, min((cutoff - date(2024, 1, 1)).days, 366))
    assert dropped == expected


async def test_rollups_refresh_by_window(clean_db: AsyncEngine) -> None:
    start = datetime(2024, 3, 4, 14, 30, tzinfo=UTC)
    async with clean_db.begin() as conn:
        contract_id = await _contract(conn)
        await conn.execute(
            text("SELECT create_partition_range('market_data_ticks', '2024-03-04', '2024-03-04')")
        )
        # One tick every 10 s for 10 minutes; bid climbs by 0.01 each tick.
        await conn.execute(
            insert(MarketDataTick),
            [
                {
                    "contract_id": contract_id,
                    "time": start + timedelta(seconds=10 * i),
                    "bid_price": 1 + i / 100,
                    "ask_price": 1.1 + i / 100,
                    "volume": i,
                }
                for i in range(60)
            ],
        )
        written = await conn.scalar(
            text("SELECT refresh_rollup('market_data_5min', :a, :b)"),
            {"a": start, "b": start + timedelta(minutes=10)},
        )
        assert written == 2
        one = (await conn.execute(text("SELECT * FROM market_data_1min ORDER BY bucket"))).all()
        five = (await conn.execute(text("SELECT * FROM market_data_5min ORDER BY bucket"))).all()
    assert len(one) == 10
    assert one[0].bucket == start and one[0].tick_count == 6
    assert one[0].open == pytest.approx(1.05) and one[0].close == pytest.approx(1.10)
    assert one[0].high == pytest.approx(1.10) and one[0].low == pytest.approx(1.05)
    assert [r.bucket for r in five] == [start, start + timedelta(minutes=5)]
    assert five[0].tick_count == 30
    assert five[0].open == pytest.approx(1.05) and five[0].close == pytest.approx(1.34)
    assert five[1].volume == 59 and five[0].spread_avg == pytest.approx(0.1)
