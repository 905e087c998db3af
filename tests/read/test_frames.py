"""Frames equal the object API's results row for row, on the COPY and the cursor path."""

from __future__ import annotations

import math
from datetime import timedelta
from typing import Any

import polars
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from alc_data.read import ArrowReader
from alc_data.repositories import OptionBarRepository, OptionTickRepository, StockTickRepository
from tests.support.market import DAY0, Market

pytestmark = pytest.mark.timeout(600)

_EXAMPLES = settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
offsets = st.integers(min_value=-20 * 60, max_value=60 * 60)  # minutes around DAY0


def _close(x: float | None, y: float | None) -> bool:
    """Equal, or both numbers within 1e-12 (SQL's avg and Python's sum/len may differ in the
    last bit)."""
    if x is None or y is None:
        return x is y
    return math.isclose(x, y, rel_tol=1e-12, abs_tol=1e-12)


def _rows(table: pa.Table) -> list[tuple[Any, ...]]:
    return [tuple(row.values()) for row in table.to_pylist()]


@_EXAMPLES
@given(a=offsets, b=offsets, pick=st.sets(st.integers(0, 7), min_size=1))
async def test_tick_frame_equals_the_object_api(
    reader: ArrowReader, market: Market, engine: AsyncEngine, a: int, b: int, pick: set[int]
) -> None:
    start, end = DAY0 + timedelta(minutes=min(a, b)), DAY0 + timedelta(minutes=max(a, b))
    ids = [market.contract_ids[i] for i in sorted(pick)]
    frame = reader.ticks(ids, start=start, end=end)
    async with AsyncSession(engine) as session:
        repo = OptionTickRepository(session)
        expected = [t for cid in ids for t in await repo.ticks(cid, start=start, end=end)]
    expected.sort(key=lambda t: (t.time, t.contract_id))
    assert _rows(frame) == [tuple(t) for t in expected]
    assert frame.schema.field("time").type == pa.timestamp("us", tz="UTC")


async def test_the_whole_chain_by_symbol(reader: ArrowReader, market: Market) -> None:
    start, end = DAY0 - timedelta(days=1), DAY0 + timedelta(days=3)
    frame = reader.ticks(symbol="SPY", start=start, end=end)
    assert frame.num_rows == len(market.ticks) == 1500  # every seeded tick, none twice
    assert _rows(frame) == [tuple(t) for t in market.ticks]


@_EXAMPLES
@given(a=offsets, b=offsets)
async def test_stock_tick_frame_equals_the_object_api(
    reader: ArrowReader, market: Market, engine: AsyncEngine, a: int, b: int
) -> None:
    start, end = DAY0 + timedelta(minutes=min(a, b)), DAY0 + timedelta(minutes=max(a, b))
    async with AsyncSession(engine) as session:
        expected = await StockTickRepository(session).ticks(
            market.underlying_id, start=start, end=end
        )
    assert _rows(reader.stock_ticks("SPY", start=start, end=end)) == [tuple(t) for t in expected]


@_EXAMPLES
@given(
    a=st.integers(-60, 700),
    b=st.integers(-60, 700),
    minutes=st.sampled_from([1, 2, 5, 15, 60]),
    basis=st.sampled_from(["auto", "ticks", "bars"]),
    pick=st.sets(st.integers(0, 7), min_size=1, max_size=3),
)
async def test_quote_bar_frame_equals_the_object_api(
    reader: ArrowReader,
    market: Market,
    engine: AsyncEngine,
    a: int,
    b: int,
    minutes: int,
    basis: str,
    pick: set[int],
) -> None:
    start, end = DAY0 + timedelta(minutes=min(a, b)), DAY0 + timedelta(minutes=max(a, b))
    ids = [market.contract_ids[i] for i in sorted(pick | {0, 1})]  # 0, 1 have stored bars
    step = timedelta(minutes=minutes)
    frame = reader.quote_bars(ids, interval=step, start=start, end=end, basis=basis)
    expected = []
    async with AsyncSession(engine) as session:
        repo = OptionBarRepository(session)
        for cid in ids:
            bars = await repo.bars(cid, interval=step, start=start, end=end, basis=basis)
            expected += [(cid, *bar) for bar in bars]
    expected.sort(key=lambda r: (r[1], r[0]))
    got = _rows(frame)
    assert [r[:2] + r[10:] for r in got] == [r[:2] + r[10:] for r in expected]
    for row, want in zip(got, expected, strict=True):
        assert all(_close(x, y) for x, y in zip(row[2:10], want[2:10], strict=True)), (row, want)
    if basis != "ticks" and any(r[-1] == "bars" for r in expected):
        assert {r[-1] for r in got} >= {"bars"}  # the stored bars were used


async def test_stored_bars_equal_the_object_api(
    reader: ArrowReader, market: Market, engine: AsyncEngine
) -> None:
    start, end = DAY0, DAY0 + timedelta(hours=3)
    frame = reader.stored_bars(
        market.contract_ids[:2], bar_size="1 min", what_to_show="BID_ASK", start=start, end=end
    )
    async with AsyncSession(engine) as session:
        expected = await OptionBarRepository(session).stored(
            market.contract_ids[0], bar_size="1 min", what_to_show="BID_ASK", start=start, end=end
        )
    assert frame.num_rows == 180
    assert _rows(frame) == [tuple(b) for b in expected]
    stock = reader.stock_bars("SPY", bar_size="1 min", what_to_show="TRADES", start=start, end=end)
    assert stock.num_rows == 100


def test_frames_convert_to_polars_and_pandas(reader: ArrowReader, market: Market) -> None:
    frame = reader.ticks(symbol="SPY", start=DAY0, end=DAY0 + timedelta(hours=2))
    assert frame.num_rows > 0
    df = polars.from_arrow(frame)
    assert isinstance(df, polars.DataFrame)
    assert df.height == frame.num_rows
    assert str(df.schema["time"]) == "Datetime(time_unit='us', time_zone='UTC')"
    pdf = frame.to_pandas()
    assert str(pdf["time"].dtype) == "datetime64[us, UTC]"
    assert pdf["contract_id"].tolist() == frame.column("contract_id").to_pylist()


def test_an_empty_window_keeps_its_columns(reader: ArrowReader, market: Market) -> None:
    later = DAY0 + timedelta(days=30)
    empty = reader.ticks(symbol="SPY", start=later, end=later + timedelta(days=1))
    full = reader.ticks(symbol="SPY", start=DAY0, end=DAY0 + timedelta(hours=1))
    assert empty.num_rows == 0 < full.num_rows
    assert empty.schema == full.schema
