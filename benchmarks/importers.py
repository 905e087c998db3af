"""Importer throughput: DBN cbbo-1s and Massive quotes against the plain bulk writer.

    python benchmarks/importers.py --records 5000000

Generates (outside the timing) a DBN ``cbbo-1s`` file (databento-dbn's own record types and
encoder, symbology in the metadata) and a Massive options quotes CSV (gzip) holding the same
quotes: ``--contracts`` OCC contracts quoted round-robin, one record every few microseconds.
Each round (``--rounds``, interleaved) truncates the ticks and the import progress, then runs:
the plain idempotent :class:`TickWriter` on the same rows (built by a generator while it
writes), ``import databento`` of the DBN file, ``import massive`` of the CSV. Rows/s are
counted on the client, medians reported; the ratios to the writer are the figures that
matter (target >= 0.8). Peak RSS of the process is sampled to show the memory bound.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import gzip
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

sys.path.insert(0, str(Path(__file__).resolve().parent))

import databento_dbn as dbn
from _common import RssSampler, median, open_database, report

from alc_data import Database, OptionTick, TickWriter
from alc_data.db.sources import SourceSpec, register_source
from alc_data.importers import import_vendor_files

T0 = datetime(2024, 3, 7, 14, 30, tzinfo=UTC)
T0_NS = int(T0.timestamp()) * 1_000_000_000
STEP_NS = 3_000  # one record every 3 µs: distinct microseconds per contract
PX = 1_000_000_000
HEADER = ["ticker", "ask_exchange", "ask_price", "ask_size", "bid_exchange", "bid_price",
          "bid_size", "sequence_number", "sip_timestamp"]  # fmt: skip


def occ(n: int) -> tuple[str, str]:
    """The raw (padded) and Massive OCC symbols of contract ``n``."""
    strike = 400_000 + 1000 * (n // 2)
    right = "C" if n % 2 else "P"
    return f"BENCH 240621{right}{strike:08d}", f"O:BENCH240621{right}{strike:08d}"


def quote(i: int, contracts: int) -> tuple[int, int, int, int, int, int]:
    """(contract, ts_ns, bid, ask (1e-9 units), bid size, ask size) of record ``i``."""
    bid = PX + (i % 997) * 10_000_000
    return i % contracts, T0_NS + i * STEP_NS, bid, bid + 50_000_000, 1 + i % 50, 2 + i % 40


def write_dbn(path: Path, records: int, contracts: int) -> None:
    mappings = [
        SimpleNamespace(raw_symbol=occ(n)[0], intervals=[SimpleNamespace(
            start_date=date(2024, 3, 7), end_date=date(2024, 3, 8), symbol=str(n + 1))])
        for n in range(contracts)
    ]  # fmt: skip
    meta = dbn.Metadata(dataset="OPRA.PILLAR", start=T0_NS, stype_in=dbn.SType.RAW_SYMBOL,
                        stype_out=dbn.SType.INSTRUMENT_ID, schema=dbn.Schema.CBBO_1S,
                        mappings=mappings)  # fmt: skip
    with path.open("wb") as out:
        out.write(bytes(meta.encode()))
        chunk = bytearray()
        for i in range(records):
            n, ts, bid, ask, bs, asz = quote(i, contracts)
            level = dbn.ConsolidatedBidAskPair(bid_px=bid, ask_px=ask, bid_sz=bs, ask_sz=asz)
            chunk += bytes(dbn.CBBOMsg(dbn.RType.CBBO_1S, 1, n + 1, ts, dbn.UNDEF_PRICE, 0,
                                       dbn.Side.NONE, ts, levels=level))  # fmt: skip
            if len(chunk) > 1 << 22:
                out.write(chunk)
                chunk.clear()
        out.write(chunk)


def write_massive(path: Path, records: int, contracts: int) -> None:
    with gzip.open(path, "wt", compresslevel=1, newline="") as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(HEADER)
        for i in range(records):
            n, ts, bid, ask, bs, asz = quote(i, contracts)
            writer.writerow([occ(n)[1], 301, ask / PX, asz, 302, bid / PX, bs, i, ts])


def writer_rows(ids: list[int], records: int) -> Iterator[OptionTick]:
    contracts = len(ids)
    for i in range(records):
        n, ts, bid, ask, bs, asz = quote(i, contracts)
        at = T0 + timedelta(microseconds=(ts - T0_NS) // 1000)
        yield OptionTick(ids[n], at, bid / PX, ask / PX, None, bs, asz)


async def reset(db: Database) -> None:
    async with db.raw() as conn:
        await conn.execute("TRUNCATE market_data_ticks, import_files")


async def run_writer(db: Database, ids: list[int], records: int, source_id: int) -> float:
    started = time.perf_counter()
    async with TickWriter(db, idempotent=True, source_id=source_id) as writer:
        for row in writer_rows(ids, records):
            await writer.put(row)
    assert writer.counts.written == records, writer.counts
    return records / (time.perf_counter() - started)


async def run_import(db: Database, fmt: str, path: Path, records: int) -> float:
    started = time.perf_counter()
    summary = await import_vendor_files(db, fmt, [path], source="bench-vendor")
    elapsed = time.perf_counter() - started
    assert summary.rows_written == records, summary.as_json()
    return records / elapsed


async def main(records: int, contracts: int, rounds: int) -> None:
    db = open_database()
    async with db.raw() as conn:
        await conn.execute(
            "TRUNCATE market_data_ticks, import_files, instrument_aliases, option_chains, "
            "underlying_securities RESTART IDENTITY CASCADE"
        )
    work = Path(tempfile.mkdtemp(prefix="alc-bench-import-"))
    started = time.perf_counter()
    dbn_path, csv_path = work / "opra-cbbo-1s.dbn", work / "quotes.csv.gz"
    write_dbn(dbn_path, records, contracts)
    write_massive(csv_path, records, contracts)
    generated = time.perf_counter() - started
    # The first import creates the contracts (not timed); the rounds reuse them.
    await run_import(db, "massive", csv_path, records)
    async with db.raw() as conn:
        rows = await conn.fetch("SELECT id, contract_symbol FROM option_chains")
    by_symbol = {r["contract_symbol"]: r["id"] for r in rows}
    ids = [by_symbol[occ(n)[0]] for n in range(contracts)]
    source_id = await register_source(db.engine, SourceSpec("bench-writer", "vendor"))
    rates: dict[str, list[float]] = {"writer": [], "databento": [], "massive": []}
    sampler = RssSampler()
    sampler.start()
    for _ in range(rounds):
        await reset(db)
        rates["writer"].append(await run_writer(db, ids, records, source_id))
        await reset(db)
        rates["databento"].append(await run_import(db, "databento", dbn_path, records))
        await reset(db)
        rates["massive"].append(await run_import(db, "massive", csv_path, records))
    peak = await sampler.stop()
    await db.close()
    writer = median(rates["writer"])
    result = {
        "records": records,
        "contracts": contracts,
        "rounds": rounds,
        "writer_rows_per_s": round(writer),
        "databento_rows_per_s": round(median(rates["databento"])),
        "massive_rows_per_s": round(median(rates["massive"])),
        "databento_ratio_vs_writer": round(median(rates["databento"]) / writer, 3),
        "massive_ratio_vs_writer": round(median(rates["massive"]) / writer, 3),
        "peak_rss_mib": round(peak, 1),
        "dbn_file_mib": round(dbn_path.stat().st_size / 2**20, 1),
        "massive_file_mib": round(csv_path.stat().st_size / 2**20, 1),
        "generation_seconds": round(generated, 1),
    }
    for path in (dbn_path, csv_path):
        path.unlink()
    report(f"importers, {records:,} records x {rounds} rounds", list(result.items()), result)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=5_000_000)
    parser.add_argument("--contracts", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    asyncio.run(main(args.records, args.contracts, args.rounds))
