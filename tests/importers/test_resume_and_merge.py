"""An interrupted import resumed ends where an uninterrupted one does; vendor contracts and
simulator-collected (IB) contracts are one row on the natural key."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import BinaryIO

import pytest
from ib_async import IB
from sqlalchemy import text

from alc_data import Database, Repositories
from alc_data.capture.universe import register_universe
from alc_data.db.sources import SourceSpec
from alc_data.ib.discovery import discover
from alc_data.ib.sim import SimClock, SimConfig, SimServer
from alc_data.importers import ImportOptions, import_files, import_vendor_files
from alc_data.importers.massive import MassiveParser
from alc_data.importers.records import Event
from alc_data.read import ArrowReader
from tests.support.importing import T0, T0_NS, snapshot, table_rows, write_csv_gz

QUOTES = ["ticker", "ask_exchange", "ask_price", "ask_size", "bid_exchange", "bid_price",
          "bid_size", "sequence_number", "sip_timestamp"]  # fmt: skip
MASSIVE = SourceSpec("massive", "vendor", {"format": "massive"})


class CrashingParser(MassiveParser):
    """Massive, with the process "killed" (an exception) after ``crash_after`` records."""

    def __init__(self, crash_after: int) -> None:
        super().__init__()
        self.crash_after = crash_after

    def records(self, raw: BinaryIO, path: Path) -> Iterator[list[Event]]:
        for n, events in enumerate(super().records(raw, path), 1):
            if n > self.crash_after:
                raise RuntimeError("killed mid-file")
            yield events


def big_file(path: Path) -> Path:
    rows = []
    for i in range(3000):
        strike = 500 + (i % 10)
        right = "C" if i % 2 else "P"
        ticker = f"O:SPY240315{right}{strike * 1000:08d}"
        rows.append([ticker, 1, f"{1 + i / 1000:.3f}", 2, 3, f"{0.9 + i / 1000:.3f}", 4, i,
                     T0_NS + i * 1_000_000])  # fmt: skip
    return write_csv_gz(path, QUOTES, rows)


async def _wipe(db: Database) -> None:
    async with db.begin() as conn:
        await conn.execute(text(
            "TRUNCATE market_data_ticks, stock_data_ticks, option_bars, stock_bars, "
            "instrument_aliases, import_files, option_chains, underlying_securities "
            "RESTART IDENTITY CASCADE"
        ))  # fmt: skip


async def test_an_interrupted_import_resumes_to_the_same_final_state(
    db: Database, tmp_path: Path
) -> None:
    path = big_file(tmp_path / "quotes.csv.gz")
    small = ImportOptions(chunk_rows=500)
    with pytest.raises(RuntimeError, match="killed"):
        await import_files(db, CrashingParser(2000), [path], source=MASSIVE, options=small)
    partial = await table_rows(db, "SELECT count(*) FROM market_data_ticks")
    written_before = partial[0][0]
    assert isinstance(written_before, int) and 0 < written_before < 3000  # some, not all
    status = await table_rows(db, "SELECT status, attempts FROM import_files")
    assert status == [("running", 1)]
    resumed = await import_vendor_files(db, "massive", [path], options=small)
    assert resumed.rows_written + resumed.duplicates == 3000
    assert resumed.duplicates == written_before
    after_resume = await snapshot(db)
    assert await table_rows(db, "SELECT status, attempts FROM import_files") == [("done", 2)]
    await _wipe(db)
    clean = await import_vendor_files(db, "massive", [path], options=small)
    assert clean.rows_written == 3000
    assert await snapshot(db) == after_resume


async def test_vendor_contracts_merge_with_simulator_collected_ones(
    db: Database, tmp_path: Path
) -> None:
    sim = SimServer(SimConfig(seed=5), port=0, clock=SimClock(T0))
    await sim.start()
    ib = IB()
    try:
        await ib.connectAsync("127.0.0.1", sim.port, clientId=7, readonly=True)
        universe = await discover(ib, "SPY", expiry_range_days=20, strike_range_percent=0.02,
                                  today=T0.date(), max_contracts=6)  # fmt: skip
    finally:
        ib.disconnect()
        await sim.stop()
    registered = await register_universe(db, universe)
    assert len(registered.contract_ids) == 6
    rows = []
    for n, c in enumerate(universe.contracts):
        ticker = f"O:{c.trading_class}{c.expiry:%y%m%d}{c.right}{int(c.strike * 1000):08d}"
        rows.append([ticker, 1, "1.10", 2, 3, "1.00", 4, n, T0_NS + n * 1000])
    path = write_csv_gz(tmp_path / "q.csv.gz", QUOTES, rows)
    before = await table_rows(db, "SELECT id, ib_con_id FROM option_chains ORDER BY id")
    summary = await import_vendor_files(db, "massive", [path])
    assert summary.rows_written == 6
    assert summary.contracts_created == 0
    assert await table_rows(db, "SELECT id, ib_con_id FROM option_chains ORDER BY id") == before
    url = db.engine.url.render_as_string(hide_password=False)
    with ArrowReader.connect(url) as reader:
        ticks = reader.ticks(
            list(registered.contract_ids.values()),
            start=T0,
            end=T0 + timedelta(seconds=1),
            source="massive",
        ).to_pylist()
    assert sorted(t["contract_id"] for t in ticks) == sorted(registered.contract_ids.values())


async def test_a_stored_contract_gets_its_symbol_filled_and_a_symbol_clash_reuses_the_row(
    db: Database, tmp_path: Path
) -> None:
    async with db.session() as session:
        repos = Repositories(session)
        spy = await repos.securities.upsert("SPY")
        unnamed = await repos.chains.upsert(spy.id, expiration_date=date(2024, 3, 15),
                                            strike_price=510, option_type="C",
                                            trading_class="SPY")  # fmt: skip
        clash = await repos.chains.upsert(
            spy.id,
            expiration_date=date(2024, 3, 15),
            strike_price=505,
            option_type="P",
            trading_class="SPY",
            multiplier=10,
            contract_symbol="SPY   240315P00505000",
        )
        ids = (unnamed.id, clash.id)
    path = write_csv_gz(tmp_path / "q.csv.gz", QUOTES, [
        ["O:SPY240315C00510000", 1, "1.10", 2, 3, "1.00", 4, 1, T0_NS],
        ["O:SPY240315P00505000", 1, "1.10", 2, 3, "1.00", 4, 2, T0_NS],
    ])  # fmt: skip
    summary = await import_vendor_files(db, "massive", [path])
    assert (summary.rows_written, summary.contracts_created) == (2, 0)
    assert await table_rows(db, "SELECT id, contract_symbol FROM option_chains ORDER BY id") == [
        (ids[0], "SPY   240315C00510000"), (ids[1], "SPY   240315P00505000"),
    ]  # fmt: skip
    ticks = await table_rows(db, "SELECT contract_id FROM market_data_ticks ORDER BY 1")
    assert ticks == [(ids[0],), (ids[1],)]
