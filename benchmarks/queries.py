"""Read-path benchmark: the as-of chain snapshot and one trading day of 1-minute bars.

    python benchmarks/queries.py --ticks 10000000

Loads ``--ticks`` ticks (2,000 contracts: one underlying, 10 expiries x 200 contracts, over 5
trading days) with the TickWriter unless ``--reuse`` finds them already there, ANALYZEs, then
times through the public repositories (client-side, a session per call as a backtest would):
``chain_snapshot`` of one expiry (200 contracts) at random ``as_of`` inside the data, and
``bars(interval=1 min)`` of one contract over one trading day.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (
    SESSION_OPEN,
    SESSION_SECONDS,
    create_market,
    median,
    open_database,
    percentile,
    report,
    tick_rows,
    trading_days,
)

from alc_data import Database, Repositories, TickWriter


async def load(db: Database, ticks: int, days: int) -> list[int]:
    ids = await create_market(db, contracts=2000, expiries=10)
    start = time.perf_counter()
    async with TickWriter(db) as writer:
        await writer.put_many(tick_rows(ids, total=ticks, days=days))
    print(f"  loaded {writer.counts.written:,} ticks in {time.perf_counter() - start:.0f} s")
    async with db.raw() as conn:
        await conn.execute("ANALYZE market_data_ticks")
        await conn.execute("ANALYZE option_chains")
    return ids


async def existing(db: Database, ticks: int) -> list[int] | None:
    async with db.raw() as conn:
        stored = await conn.fetchval("SELECT count(*) FROM market_data_ticks")
        if stored != ticks:
            return None
        return [r[0] for r in await conn.fetch("SELECT id FROM option_chains ORDER BY id")]


async def time_calls(db: Database, calls: Sequence[object], runner: object) -> list[float]:
    out = []
    for arg in calls:
        async with db.session() as session:
            repos = Repositories(session)
            start = time.perf_counter()
            await runner(repos, arg)  # type: ignore[operator]
            out.append((time.perf_counter() - start) * 1000)
    return out


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--ticks", type=int, default=10_000_000)
    parser.add_argument("--days", type=int, default=5)
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--reuse", action="store_true", help="keep ticks already loaded")
    args = parser.parse_args()
    rng = random.Random(7)

    db = open_database()
    ids = (await existing(db, args.ticks)) if args.reuse else None
    if ids is None:
        ids = await load(db, args.ticks, args.days)
    days = trading_days(args.days)
    async with db.session() as session:
        expiries = await Repositories(session).chains.expirations("BENCH")

    def inside() -> datetime:
        day = rng.choice(days)
        base = datetime.combine(day, datetime.min.time(), UTC) + SESSION_OPEN
        return base + timedelta(seconds=rng.uniform(60, SESSION_SECONDS))

    async def snapshot(repos: Repositories, as_of: datetime) -> None:
        snap = await repos.chains.chain_snapshot("BENCH", as_of=as_of, expiry=expiries[0])
        assert len(snap.quotes) == 200, len(snap.quotes)

    async def bars(repos: Repositories, arg: tuple[int, datetime]) -> None:
        cid, start = arg
        got = await repos.bars.bars(
            cid, interval="1 min", start=start, end=start + timedelta(days=1)
        )
        assert got and all(b.source == "ticks" for b in got)

    snap_args = [inside() for _ in range(args.samples)]
    bar_args = [
        (rng.choice(ids), datetime.combine(rng.choice(days), datetime.min.time(), UTC))
        for _ in range(args.samples)
    ]
    await time_calls(db, snap_args[:20], snapshot)  # warm-up
    await time_calls(db, bar_args[:20], bars)
    snap_ms: list[float] = []
    bar_ms: list[float] = []
    for i in range(0, args.samples, 20):  # interleaved
        snap_ms += await time_calls(db, snap_args[i : i + 20], snapshot)
        bar_ms += await time_calls(db, bar_args[i : i + 20], bars)
    await db.close()

    result = {
        "ticks": args.ticks,
        "snapshot_ms_median": round(median(snap_ms), 3),
        "snapshot_ms_p95": round(percentile(snap_ms, 95), 3),
        "bars_1min_ms_median": round(median(bar_ms), 3),
        "bars_1min_ms_p95": round(percentile(bar_ms, 95), 3),
    }
    report(
        f"queries: {args.ticks:,} ticks, 2000 contracts, {args.days} days, "
        f"{args.samples} samples each",
        [
            ("chain_snapshot (200 contracts) median ms", result["snapshot_ms_median"]),
            ("chain_snapshot p95 ms", result["snapshot_ms_p95"]),
            ("bars 1 min x 1 day median ms", result["bars_1min_ms_median"]),
            ("bars 1 min x 1 day p95 ms", result["bars_1min_ms_p95"]),
        ],
        result,
    )


if __name__ == "__main__":
    asyncio.run(main())
