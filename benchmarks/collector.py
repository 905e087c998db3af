"""Benchmark: simulator -> ib_async -> OptionsDataCollector -> database.

The simulator runs in its own process (as a gateway would); it counts the updates it had to
skip because the collector read too slowly (``dropped_updates``, with the rows the collector
shed or failed to store). Two runs:

- defaults: 100 lines, 100 ms interval, the simulator's normal update rate (0.25 s):
  ``stored_rows_per_s``, ``dropped_updates`` (must be 0), ``latency_ms_p50`` / ``_p99``
  (from ib_async receiving an update to the commit of its row; target p99 <= 1000 ms);
- stress: 1,000 lines, 10 ms interval, updates every 10 ms: ``stress_stored_rows_per_s``
  (target >= 10,000) and the CPU share of each stage: ``decode`` (ib_async reading and
  decoding the socket), ``sampling`` (changed tickers -> rows), ``writer`` (the rest of the
  collector process: COPY encoding, asyncpg, the event loop), ``database`` (PostgreSQL server
  processes), ``simulator``.

Usage: ``python benchmarks/collector.py [--seconds 20] [--stress-seconds 20]``; the database
is ``ALC_DATABASE_URL`` (or the embedded one); the tick tables are emptied first. The last
line is one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing as mp
import shutil
import tempfile
import time
from collections.abc import Callable
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import psutil
from _common import open_database, report
from ib_async import IB

from alc_data import Database
from alc_data.collector import CollectorConfig, OptionsDataCollector


def _serve(pipe: Connection, update_interval: float, lines: int) -> None:
    """The simulator process: reports its port, then its skipped updates and CPU."""
    from alc_data.ib.sim import SimConfig, SimServer
    from alc_data.ib.sim.session import ClientSession

    skipped = 0
    congested = ClientSession.is_congested

    def counting(self: ClientSession) -> bool:
        nonlocal skipped
        busy = congested(self)
        skipped += busy and bool(self.subscriptions)
        return busy

    ClientSession.is_congested = counting  # type: ignore[method-assign]

    async def main() -> None:
        config = SimConfig(seed=3, update_interval=update_interval, greeks_interval=0.25,
                           lines=lines)  # fmt: skip
        async with SimServer(config, port=0) as sim:
            pipe.send(sim.port)
            loop = asyncio.get_running_loop()
            await loop.run_in_executor(None, pipe.recv)
            subs = sum(len(s.subscriptions) for s in sim.sessions)
            pipe.send({"skipped_publishes": skipped, "subscriptions": subs,
                       "cpu": time.process_time()})  # fmt: skip

    asyncio.run(main())


def _postgres_cpu() -> float:
    total = 0.0
    for proc in psutil.process_iter(["name"]):
        if proc.info["name"] and proc.info["name"].startswith("postgres"):
            try:
                times = proc.cpu_times()
                total += times.user + times.system
            except (psutil.NoSuchProcess, psutil.AccessDenied):
                continue
    return total


async def _empty(db: Database) -> None:
    async with db.raw() as conn:
        await conn.execute("TRUNCATE market_data_ticks, stock_data_ticks")


async def _run(db: Database, *, lines: int, interval_ms: int, update: float, seconds: float,
               per_symbol: int) -> dict[str, Any]:  # fmt: skip
    await _empty(db)
    parent, child = mp.get_context("spawn").Pipe()
    server = mp.get_context("spawn").Process(target=_serve, args=(child, update, lines))
    server.start()
    port = parent.recv()
    spool = Path(tempfile.mkdtemp(prefix="alc-bench-spool-"))
    ib = IB()
    await ib.connectAsync("127.0.0.1", port, clientId=1, timeout=30)
    decode = [0.0]
    handler: Callable[[bytes], None] = ib.client._onSocketHasData

    def timed(data: bytes) -> None:
        started = time.perf_counter()
        handler(data)
        decode[0] += time.perf_counter() - started

    ib.client.conn.hasData -= handler
    ib.client.conn.hasData += timed
    config = CollectorConfig.from_settings(
        max_lines=lines, interval_ms=interval_ms, max_contracts_per_symbol=per_symbol,
        spool_dir=spool, batch_size=max(1000, lines * 2),
    )  # fmt: skip
    collector = OptionsDataCollector(db, ib, config)
    task = asyncio.create_task(collector.start_collection(["SPY", "QQQ"]))
    await collector.wait_streaming()
    await asyncio.sleep(2.0)  # first snapshots and greeks arrive
    base = collector.get_stats()["ticks_inserted"]
    cpu0, pg0, dec0, samp0 = (time.process_time(), _postgres_cpu(), decode[0],
                              collector.sample_seconds)  # fmt: skip
    started = time.perf_counter()
    await asyncio.sleep(seconds)
    stats = collector.get_stats()
    elapsed = time.perf_counter() - started
    cpu, pg = time.process_time() - cpu0, _postgres_cpu() - pg0
    dec, samp = decode[0] - dec0, collector.sample_seconds - samp0
    await collector.stop_collection()
    await task
    final = collector.get_stats()
    parent.send("stop")
    sim = parent.recv()
    server.join(10)
    ib.disconnect()
    shutil.rmtree(spool, ignore_errors=True)
    lost = final["ticks_collected"] - final["ticks_inserted"]
    stages = {"decode": dec, "sampling": samp, "writer": max(0.0, cpu - dec - samp),
              "database": pg}  # fmt: skip
    total = sum(stages.values()) or 1.0
    return {
        "stored_rows_per_s": round((stats["ticks_inserted"] - base) / elapsed, 1),
        "dropped_updates": sim["skipped_publishes"] + lost + final["shed_rows"],
        "latency_ms_p50": final["latency_ms_p50"],
        "latency_ms_p99": final["latency_ms_p99"],
        "lines": stats["lines_in_use"],
        "contracts": final["active_contracts"],
        "cpu_share": {k: round(v / total, 3) for k, v in stages.items()},
        "cpu_seconds": {
            **{k: round(v, 2) for k, v in stages.items()},
            "simulator": round(sim["cpu"], 2),
        },
        "seconds": round(elapsed, 1),
    }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--stress-seconds", type=float, default=20.0)
    args = parser.parse_args()
    db = open_database()
    try:
        defaults = await _run(db, lines=100, interval_ms=100, update=0.25, seconds=args.seconds,
                              per_symbol=49)  # fmt: skip
        stress = await _run(db, lines=1000, interval_ms=10, update=0.01,
                            seconds=args.stress_seconds, per_symbol=499)  # fmt: skip
    finally:
        await db.close()
    result = {
        "stored_rows_per_s": defaults["stored_rows_per_s"],
        "dropped_updates": defaults["dropped_updates"],
        "latency_ms_p50": defaults["latency_ms_p50"],
        "latency_ms_p99": defaults["latency_ms_p99"],
        "stress_stored_rows_per_s": stress["stored_rows_per_s"],
        "stress_dropped_updates": stress["dropped_updates"],
        "stress_latency_ms_p99": stress["latency_ms_p99"],
        "stress_cpu_share": stress["cpu_share"],
        "stress_cpu_seconds": stress["cpu_seconds"],
        "defaults_lines": defaults["lines"],
        "stress_lines": stress["lines"],
    }
    table = [(k, v) for k, v in result.items() if not isinstance(v, dict)]
    table += [(f"stress cpu {k}", v) for k, v in stress["cpu_share"].items()]
    report("collector: simulator -> ib_async -> collector -> database", table, result)


if __name__ == "__main__":
    asyncio.run(main())
