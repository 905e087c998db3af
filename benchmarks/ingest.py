"""Ingest benchmark: TickWriter against raw asyncpg COPY of the same rows.

    python benchmarks/ingest.py --rows 1000000

Rows are built before timing (~2,000 contracts over 5 trading days, so 5 daily partitions are
written). Each round runs the writer, the raw baseline (``copy_records_to_table`` in 50,000-row
chunks, one connection) and the idempotent writer on the truncated table; 3 rounds interleaved,
median reported, throughput counted on the client. ``--stream`` generates rows during the
writer run instead of holding them all (to show the writer's memory bound at 10M rows).
``--inline-validation`` adds to each round a writer run with inline validation on (an
:class:`~alc_data.validation.InlineValidationHook` as its ``before_write``, contract terms
loaded from the database by the hook), so that the cost of validation in the write path is
measured: keys ``inline_validation_rows_per_s``, ``inline_validation_ratio_vs_writer`` and
``inline_validation_findings_per_row`` (the synthetic rows are not priced consistently with
their contracts' strikes, so most rows draw findings: a heavy case for the hook; the hook alone
on rows with ~1% defects is timed by ``benchmarks/validation.py``).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (
    RssSampler,
    create_market,
    median,
    open_database,
    report,
    tick_rows,
    trading_days,
)

from alc_data import Database, DataValidator, OptionTick, TickWriter
from alc_data.repositories.writers import TickWriter as _Writer
from alc_data.validation import InlineValidationHook

COLUMNS = _Writer.target.columns


async def truncate(db: Database) -> None:
    async with db.raw() as conn:
        await conn.execute("TRUNCATE market_data_ticks")


#: findings per row of each inline-validated run
INLINE_FINDINGS: list[float] = []


async def run_writer(
    db: Database, rows: object, *, idempotent: bool, chunk: int, validate: bool = False
) -> int:
    hook = InlineValidationHook(DataValidator(db), enabled=True) if validate else None
    before_write = hook.check if hook is not None else None
    async with TickWriter(
        db, idempotent=idempotent, chunk_rows=chunk, before_write=before_write
    ) as writer:
        await writer.put_many(rows)  # type: ignore[arg-type]
    counts = writer.counts
    if hook is not None:
        assert hook.checked == counts.written, (hook.checked, counts)
        INLINE_FINDINGS.append(sum(hook.rule_failures.values()) / max(1, hook.checked))
    assert counts.rejected == 0 and counts.pending == 0, counts
    return counts.written


async def run_raw(db: Database, rows: list[OptionTick], *, chunk: int) -> int:
    async with db.raw() as conn:
        for i in range(0, len(rows), chunk):
            await conn.copy_records_to_table(
                "market_data_ticks", records=rows[i : i + chunk], columns=COLUMNS
            )
    return len(rows)


async def timed(coro: object) -> tuple[float, int]:
    start = time.perf_counter()
    written = await coro  # type: ignore[misc]
    return time.perf_counter() - start, written


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--contracts", type=int, default=2000)
    parser.add_argument("--days", type=int, default=5)
    parser.add_argument("--chunk", type=int, default=50_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--stream", action="store_true", help="generate rows while writing")
    parser.add_argument(
        "--inline-validation", action="store_true",
        help="also time the writer with inline validation on (before_write hook)",
    )  # fmt: skip
    args = parser.parse_args()

    db = open_database()
    ids = await create_market(db, contracts=args.contracts, expiries=10)
    days = trading_days(args.days)
    async with db.raw() as conn:  # the raw baseline needs its partitions to exist
        await conn.execute(
            "SELECT create_partition_range('market_data_ticks', $1, $2)", days[0], days[-1]
        )
    sampler = RssSampler()
    sampler.start()
    if args.stream:
        await truncate(db)
        seconds, written = await timed(
            run_writer(
                db, tick_rows(ids, total=args.rows, days=args.days), idempotent=False,
                chunk=args.chunk,
            )
        )  # fmt: skip
        peak = await sampler.stop()
        rate = written / seconds
        report(
            f"ingest --stream: {written:,} rows",
            [("writer rows/s", rate), ("peak RSS MB", peak)],
            {"rows": written, "writer_rows_per_s": round(rate), "peak_rss_mb": round(peak, 1)},
        )
        await db.close()
        return

    rows = list(tick_rows(ids, total=args.rows, days=args.days))
    names = ("writer", "raw", "idempotent", *(("inline",) if args.inline_validation else ()))
    results: dict[str, list[float]] = {name: [] for name in names}
    for _ in range(args.runs):
        for name in names:
            await truncate(db)
            if name == "raw":
                seconds, written = await timed(run_raw(db, rows, chunk=args.chunk))
            else:
                seconds, written = await timed(
                    run_writer(
                        db, rows, idempotent=name == "idempotent", chunk=args.chunk,
                        validate=name == "inline",
                    )
                )  # fmt: skip
            assert written == len(rows), (name, written)
            results[name].append(written / seconds)
            print(f"  {name:<10} {written / seconds:>12,.0f} rows/s", file=sys.stderr)
    peak = await sampler.stop()
    await truncate(db)
    await db.close()

    writer, raw, idem = (median(results[k]) for k in ("writer", "raw", "idempotent"))
    result = {
        "rows": len(rows),
        "writer_rows_per_s": round(writer),
        "raw_copy_rows_per_s": round(raw),
        "ratio_vs_raw_copy": round(writer / raw, 3),
        "idempotent_rows_per_s": round(idem),
        "idempotent_ratio_vs_raw_copy": round(idem / raw, 3),
        "peak_rss_mb": round(peak, 1),
    }
    table: list[tuple[str, float]] = []
    if args.inline_validation:
        inline = median(results["inline"])
        result["inline_validation_rows_per_s"] = round(inline)
        result["inline_validation_ratio_vs_writer"] = round(inline / writer, 3)
        result["inline_validation_findings_per_row"] = round(median(INLINE_FINDINGS), 3)
        table = [
            ("inline-validated rows/s", inline),
            ("inline ratio vs writer", inline / writer),
            ("inline findings per row", median(INLINE_FINDINGS)),
        ]
    report(
        f"ingest: {len(rows):,} rows, {args.contracts} contracts, {args.days} days, "
        f"median of {args.runs}",
        [
            ("TickWriter rows/s", writer),
            ("raw COPY rows/s", raw),
            ("ratio vs raw", writer / raw),
            ("idempotent rows/s", idem),
            ("idempotent ratio", idem / raw),
            ("peak RSS MB (rows pre-built)", peak),
            *table,
        ],
        result,
    )


if __name__ == "__main__":
    asyncio.run(main())
