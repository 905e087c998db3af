"""Replay: time order across contracts, completeness, read-ahead with bounded buffering,
sampled chain states equal to as-of snapshots, async iteration, failures surfaced."""

from __future__ import annotations

import itertools
import threading
import time
from datetime import timedelta

import pyarrow as pa
import pytest
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from alc_data.errors import DataError
from alc_data.read import ArrowReader
from alc_data.read.slice_streams import time_slices
from alc_data.repositories import OptionChainRepository
from tests.support.market import DAY0, Market

START, END = DAY0 - timedelta(hours=16), DAY0 + timedelta(days=2, hours=8)  # 4 UTC days


def _keys(batches: list[pa.RecordBatch]) -> list[tuple[object, int]]:
    table = pa.Table.from_batches(batches)
    return list(zip(table.column("time").to_pylist(), table.column("contract_id").to_pylist(),
                    strict=True))  # fmt: skip


@pytest.mark.parametrize("prefetch", [0, 1, 2])
def test_every_tick_once_in_time_order(reader: ArrowReader, market: Market, prefetch: int) -> None:
    batches = list(reader.replay("SPY", start=START, end=END, prefetch=prefetch))
    assert len(batches) >= 4  # at least one per UTC day
    keys = _keys(batches)
    assert keys == sorted(keys)  # time order across contracts, ties by contract id
    frame = reader.ticks(symbol="SPY", start=START, end=END)
    assert pa.Table.from_batches(batches).equals(frame)  # complete: every tick, once
    assert frame.num_rows == len(market.ticks)


def test_reads_ahead_with_bounded_buffering(migrated_url: URL, market: Market) -> None:
    reader = ArrowReader.connect(migrated_url, copy=False, batch_rows=50)  # many small batches
    replay = reader.replay(
        "SPY", start=START, end=END, prefetch=1, queue_batches=2, slice=timedelta(days=1)
    )
    peak = 0
    steps = iter(replay)
    for step, _ in enumerate(steps):
        # Early on, let the reading threads run ahead as far as they may while the
        # "strategy" works (a day's 8 batches, two days in flight, so the bound is reachable).
        for _ in range(400 if step < 3 else 0):
            if replay.buffered() >= 4:
                break
            time.sleep(0.005)
        peak = max(peak, replay.buffered())
        assert replay.buffered() <= (1 + 1) * 2  # the bound: (1 + prefetch) * queue_batches
    reader.close()
    assert peak == 4  # positive control: the database did read ahead, up to the bound


def test_time_slices_cover_the_window_inside_daily_partitions() -> None:
    start, end = DAY0 + timedelta(minutes=17), DAY0 + timedelta(days=1, minutes=5)
    slices = time_slices(start, end, timedelta(hours=1))
    assert slices[0] == (start, DAY0 + timedelta(minutes=30))  # DAY0 is 14:30 UTC
    assert slices[-1][1] == end
    assert all(a[1] == b[0] for a, b in itertools.pairwise(slices))  # no gap
    assert all(lo.date() == (hi - timedelta(microseconds=1)).date() for lo, hi in slices)
    assert len(time_slices(start, end, timedelta(days=1))) == 2  # split at midnight only


def test_stopping_early_stops_the_reading_threads(reader: ArrowReader, market: Market) -> None:
    replay = reader.replay("SPY", start=START, end=END, prefetch=2)
    steps = iter(replay)
    next(steps)
    assert any(t.name == "alc-replay-slice" for t in threading.enumerate())  # positive control
    steps.close()  # type: ignore[attr-defined]
    assert not any(t.name == "alc-replay-slice" for t in threading.enumerate())


async def test_sampled_states_are_the_as_of_snapshots(
    reader: ArrowReader, market: Market, engine: AsyncEngine
) -> None:
    start, end = DAY0, DAY0 + timedelta(hours=6)
    states = list(reader.replay("SPY", start=start, end=end, every="10min"))
    instants = [s.column("as_of")[0].as_py() for s in states]
    assert instants == sorted(set(instants)) and len(instants) > 5
    assert all((t - start) % timedelta(minutes=10) == timedelta(0) for t in instants)
    ticks = reader.ticks(symbol="SPY", start=start - timedelta(days=2), end=end).to_pylist()
    async with AsyncSession(engine) as session:
        repo = OptionChainRepository(session)
        for state, at in zip(states, instants, strict=True):
            snap = await repo.chain_snapshot("SPY", as_of=at)
            got = {(r["contract_id"], r["time"], r["bid_price"]) for r in state.to_pylist()}
            assert got == {(q.contract_id, q.time, q.bid_price) for q in snap.quotes}
    # An instant is skipped only when no tick arrived since the previous one.
    skipped = [start + timedelta(minutes=10 * k) for k in range(36)]
    skipped = [t for t in skipped if t not in instants]
    for t in skipped:
        assert not any(t - timedelta(minutes=10) < r["time"] <= t for r in ticks)


def test_snapshots_on_request(reader: ArrowReader, market: Market) -> None:
    snaps = list(reader.replay("SPY", start=DAY0, end=DAY0 + timedelta(hours=1), every="15min"))
    objects = list(
        reader.replay("SPY", start=DAY0, end=DAY0 + timedelta(hours=1), every="15min").snapshots()
    )
    assert len(objects) == len(snaps) > 0
    for snap, state in zip(objects, snaps, strict=True):
        assert snap.as_of == state.column("as_of")[0].as_py()
        assert sorted(q.contract_id for q in snap.quotes) == sorted(
            state.column("contract_id").to_pylist()
        )
        assert all(
            q.basis == "ticks" and q.time is not None and q.time <= snap.as_of for q in snap.quotes
        )
        assert snap.underlying is not None and snap.underlying.time <= snap.as_of


async def test_async_iteration(reader: ArrowReader, market: Market) -> None:
    batches = [b async for b in reader.replay("SPY", start=START, end=END)]
    assert pa.Table.from_batches(batches).num_rows == len(market.ticks)


def test_bad_input_is_refused(reader: ArrowReader, market: Market) -> None:
    with pytest.raises(DataError, match="every"):
        reader.replay("SPY", start=START, end=END, every="soon")
    with pytest.raises(DataError, match="before start"):
        reader.replay("SPY", start=END, end=START)
    with pytest.raises(DataError, match="cadence"):
        list(reader.replay("SPY", start=START, end=END).states())
