"""Throughput of the built-in validation rules, and the cost of inline validation.

Run: ``python benchmarks/validation.py [--ticks 100000] [--repeat 3]``. Prints a table, then as
the last line one JSON object: ``ticks_per_s`` is the median throughput of
``DataValidator.validate_batch`` over the built-in rule set (no database round trip: the
validator is built without a database, so the figure is the rules' own cost). The inline
figures time :class:`InlineValidationHook.check` on 1,000-row flushes of :class:`OptionTick`
rows, the rows the tick writer hands to its ``before_write`` callback (rows to snapshots plus
the rules), i.e. the CPU that enabling inline validation adds to each tick written. The
writer's throughput with the hook on is measured by ``benchmarks/ingest.py
--inline-validation``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import statistics
import time
from datetime import UTC, date, datetime, timedelta
from typing import Any

from alc_data import OptionTick
from alc_data.validation import ContractTerms, DataValidator, InlineValidationHook
from alc_data.validation.types import MarketDataSnapshot

EXPIRY = date(2026, 12, 18)
SESSION_OPEN = datetime(2026, 11, 24, 14, 30, tzinfo=UTC)  # 09:30 New York, a Tuesday


def _contracts(n_strikes: int) -> list[tuple[int, float, str]]:
    strikes = [400.0 + 5 * i for i in range(n_strikes)]
    return [(i * 2 + (r == "P"), k, r) for i, k in enumerate(strikes) for r in ("C", "P")]


def _rows(total: int, n_strikes: int = 50) -> list[OptionTick]:
    """Tick rows as the writer holds them, time-ordered, a few percent with defects."""
    contracts = _contracts(n_strikes)
    rows = []
    for i in range(total):
        cid, strike, right = contracts[i % len(contracts)]
        t = SESSION_OPEN + timedelta(milliseconds=20 * i)
        spot = 500.0 + math.sin(i / 5000.0)
        intrinsic = max(0.0, spot - strike) if right == "C" else max(0.0, strike - spot)
        mid = intrinsic + 2.0 + 0.01 * (i % 7)
        bid, ask = mid - 0.05, mid + 0.05
        if i % 97 == 0:
            bid, ask = ask, bid  # crossed
        delta = 0.5 if right == "C" else -0.5
        rows.append(
            OptionTick(cid, t, bid, ask, mid, 10, 12, 1, i // len(contracts), 100, 0.2, delta,
                       0.01, -0.05, 0.3, None, spot, "REALTIME")
        )  # fmt: skip
    return rows


def _terms(n_strikes: int = 50) -> dict[int, ContractTerms]:
    return {
        cid: ContractTerms("SPY", EXPIRY, strike, right, 1, "STK")
        for cid, strike, right in _contracts(n_strikes)
    }


async def _batch_rate(snapshots: list[MarketDataSnapshot]) -> tuple[float, int]:
    validator = DataValidator(None)
    context = validator.context(now=SESSION_OPEN + timedelta(hours=6))
    started = time.perf_counter()
    report = await validator.validate_batch(snapshots, context)
    elapsed = time.perf_counter() - started
    return len(snapshots) / elapsed, len(report.findings)


async def _inline_cost(rows: list[OptionTick], flush: int = 1000) -> float:
    hook = InlineValidationHook(enabled=True, terms=_terms())
    hook.context.now = SESSION_OPEN + timedelta(hours=6)
    started = time.perf_counter()
    for i in range(0, len(rows), flush):
        await hook.check(rows[i : i + flush])
    return (time.perf_counter() - started) / len(rows) * 1e6


async def _disabled_cost(rows: list[OptionTick], flush: int = 1000) -> float:
    hook = InlineValidationHook(enabled=False)
    started = time.perf_counter()
    for i in range(0, len(rows), flush):
        await hook.check(rows[i : i + flush])
    return (time.perf_counter() - started) / len(rows) * 1e6


async def main(ticks: int, repeat: int) -> dict[str, Any]:
    """Measure and print; returns the JSON summary."""
    rows = _rows(ticks)
    hook = InlineValidationHook(enabled=True, terms=_terms())
    snapshots = await hook.snapshots(rows)
    rates, inline = [], []
    findings = 0
    for _ in range(repeat):  # interleaved: batch, inline, batch, inline, ...
        rate, findings = await _batch_rate(snapshots)
        rates.append(rate)
        inline.append(await _inline_cost(rows))
    disabled = await _disabled_cost(rows)
    rate = statistics.median(rates)
    inline_us = statistics.median(inline)
    print(f"{'measure':<44}{'median':>14}   runs")
    print(f"{'validate_batch, built-in rules (ticks/s)':<44}{rate:>14,.0f}   "
          + ", ".join(f"{r:,.0f}" for r in rates))  # fmt: skip
    print(f"{'  findings in the batch':<44}{findings:>14,}")
    print(f"{'inline hook enabled (us/tick, 1000-row flush)':<44}{inline_us:>14.2f}   "
          + ", ".join(f"{r:.2f}" for r in inline))  # fmt: skip
    print(f"{'inline hook disabled (us/tick)':<44}{disabled:>14.4f}")
    return {
        "ticks": ticks,
        "rules": len(DataValidator(None).rules),
        "ticks_per_s": round(rate),
        "runs_ticks_per_s": [round(r) for r in rates],
        "inline_us_per_tick": round(inline_us, 3),
        "inline_ticks_per_s": round(1e6 / inline_us),
        "inline_disabled_us_per_tick": round(disabled, 5),
        "findings": findings,
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--ticks", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    options = parser.parse_args()
    print(json.dumps(asyncio.run(main(options.ticks, options.repeat))))
