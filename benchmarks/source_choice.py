"""Choosing a read's source: the lateral index probes of ``choose_source`` against the plain
``EXISTS`` form (which PostgreSQL turns into a semi-join over the window's rows), and against
the chain snapshot they precede.

    python benchmarks/source_choice.py --ticks 1000000

Loads ``--ticks`` ticks of 200 contracts (one expiry) over 2 trading days, half under each of
two sources, then times, interleaved A B C (median of ``--rounds``, counted on the client):
A ``choose_source`` for the 200 contracts over one hour with ``source=None`` (refuses: two
sources), B the same question as a plain ``EXISTS``, C ``chain_snapshot(source=...)``.
A source named explicitly costs one primary-key lookup instead: a backtest reading in a loop
should name its source once.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import SESSION_OPEN, create_market, median, open_database, report, tick_rows
from sqlalchemy import text

from alc_data import Repositories, TickWriter
from alc_data.db.sources import SourceSpec, register_source
from alc_data.errors import AmbiguousSourceError
from alc_data.repositories.source_choice import choose_source

_PLAIN_EXISTS = text(
    "SELECT s.id FROM data_sources s WHERE EXISTS (SELECT 1 FROM market_data_ticks t "
    "WHERE t.contract_id = ANY(:ids) AND t.source_id = s.id AND t.time >= :a AND t.time < :b)"
)


async def main(ticks: int, rounds: int) -> None:
    db = open_database()
    ids = await create_market(db, contracts=200, expiries=1)
    half = ticks // 2
    for name in ("bench-a", "bench-b"):
        sid = await register_source(db.engine, SourceSpec(name, "vendor"))
        async with TickWriter(db, source_id=sid) as writer:
            await writer.put_many(tick_rows(ids, total=half, days=2))
    async with db.raw() as conn:
        await conn.execute("ANALYZE market_data_ticks")
    start = datetime(2024, 1, 8, tzinfo=UTC) + SESSION_OPEN + timedelta(hours=2)
    end = start + timedelta(hours=1)
    timings: dict[str, list[float]] = {"choose": [], "plain_exists": [], "snapshot": []}
    for _ in range(rounds):
        async with db.session() as session:
            t0 = time.perf_counter()
            with contextlib.suppress(AmbiguousSourceError):  # two sources: the answer expected
                await choose_source(
                    session, tables=["market_data_ticks"], ids=ids, start=start, end=end
                )
            timings["choose"].append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            found = await session.execute(_PLAIN_EXISTS, {"ids": ids, "a": start, "b": end})
            assert len(found.all()) == 2
            timings["plain_exists"].append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            await Repositories(session).chains.chain_snapshot("BENCH", as_of=end, source="bench-a")
            timings["snapshot"].append(time.perf_counter() - t0)
    ms = {k: median(v) * 1000 for k, v in timings.items()}
    result = {
        "ticks": ticks,
        "choose_ms": round(ms["choose"], 3),
        "plain_exists_ms": round(ms["plain_exists"], 3),
        "snapshot_ms": round(ms["snapshot"], 3),
        "plain_exists_over_choose": round(ms["plain_exists"] / ms["choose"], 2),
        "choose_over_snapshot": round(ms["choose"] / ms["snapshot"], 2),
    }
    report("source choice (200 contracts, 1 h window, 2 sources)", list(result.items()), result)
    await db.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--ticks", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    asyncio.run(main(args.ticks, args.rounds))
