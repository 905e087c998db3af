"""Benchmark: market-data ticks the simulator delivers to one ib_async client per second.

The simulator runs in its own process (``python -m alc_data.ib.sim serve``) so that server and
client each get a core, as with a real gateway. One client subscribes to ``--contracts`` options
(and their greeks, open interest and implied volatility) and counts, on the client, the ticks
ib_async delivered: every ``TickData`` that arrived on a ticker through ``pendingTickersEvent``
(option-computation updates are counted separately, not in ``ticks_per_s``).

Prints a table, then one JSON line: {"ticks_per_s": ..., ...}.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import sys
import time

from ib_async import IB, Contract, Option, Stock, Ticker


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def _measure(port: int, contracts: int, seconds: float, runs: int) -> dict[str, float]:
    ib = IB()
    await ib.connectAsync("127.0.0.1", port, clientId=1)
    spy = Stock("SPY", "SMART", "USD")
    await ib.qualifyContractsAsync(spy)
    chain = next(
        c
        for c in await ib.reqSecDefOptParamsAsync("SPY", "", "STK", spy.conId)
        if c.exchange == "SMART"
    )
    [snapshot] = await ib.reqTickersAsync(spy)
    spot = snapshot.last
    strikes = sorted(chain.strikes, key=lambda k: abs(k - spot))[: max(1, contracts // 4)]
    expiries = sorted(chain.expirations)[:2]
    candidates = [Option("SPY", e, k, r, "SMART") for e in expiries for k in strikes for r in "CP"][
        :contracts
    ]
    options = [c for c in await ib.qualifyContractsAsync(*candidates) if isinstance(c, Contract)]
    for option in options:
        ib.reqMktData(option, "101,106")
    counts = {"ticks": 0, "greeks": 0, "tickers": 0}

    def on_pending(tickers: set[Ticker]) -> None:
        counts["tickers"] += len(tickers)
        for t in tickers:
            counts["ticks"] += len(t.ticks)

    ib.pendingTickersEvent += on_pending
    await asyncio.sleep(1.0)  # warm up: initial snapshots
    rates: list[dict[str, float]] = []
    for _ in range(runs):
        before = dict(counts)
        started = time.perf_counter()
        await asyncio.sleep(seconds)
        elapsed = time.perf_counter() - started
        rates.append({k: (counts[k] - before[k]) / elapsed for k in counts})
    ib.disconnect()
    result = {k: statistics.median(r[k] for r in rates) for k in counts}
    result["subscriptions"] = len(options)
    return result


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--contracts", type=int, default=100)
    parser.add_argument("--update-interval", type=float, default=0.01)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    port = _free_port()
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "alc_data.ib.sim",
        "serve",
        "--port",
        str(port),
        "--lines",
        str(max(100, args.contracts)),
        "--update-interval",
        str(args.update_interval),
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert proc.stderr is not None
    try:
        await asyncio.wait_for(proc.stderr.readline(), 15)
        result = await _measure(port, args.contracts, args.seconds, args.runs)
    finally:
        proc.terminate()
        await proc.wait()
    print(f"{'metric':<28}{'per second':>14}")
    print(f"{'ticks delivered (TickData)':<28}{result['ticks']:>14,.0f}")
    print(f"{'ticker updates (events)':<28}{result['tickers']:>14,.0f}")
    print(
        f"subscriptions: {result['subscriptions']:.0f}, update interval "
        f"{args.update_interval} s, median of {args.runs} x {args.seconds} s"
    )
    print(
        json.dumps(
            {
                "ticks_per_s": round(result["ticks"]),
                "ticker_updates_per_s": round(result["tickers"]),
                "subscriptions": int(result["subscriptions"]),
                "update_interval_s": args.update_interval,
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
