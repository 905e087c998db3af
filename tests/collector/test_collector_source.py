"""The collector records its source from the connection: the simulator's account (SIM...)
makes every row the ``simulator``'s, with the requested market-data type in its details."""

from __future__ import annotations

from pathlib import Path

from ib_async import IB
from sqlalchemy import text

from alc_data import OptionsDataCollector
from alc_data.db.database import Database
from alc_data.ib.sim import SimServer
from tests.support.collecting import collecting, small_config, until


async def test_every_collected_row_is_the_simulators(
    sim: SimServer, ib: IB, db: Database, tmp_path: Path
) -> None:
    collector = OptionsDataCollector(db, ib, small_config(tmp_path, market_data_type=3))
    async with collecting(collector, ["SPY"]):
        await until(lambda: collector.get_stats()["option_ticks"]["inserted"] >= 10)
        await until(lambda: collector.get_stats()["stock_ticks"]["inserted"] >= 1)
    assert ib.managedAccounts() == ["SIMULATED"]
    assert collector.get_stats()["source"] == "simulator"
    async with db.engine.connect() as conn:
        for table in ("market_data_ticks", "stock_data_ticks"):
            rows = await conn.execute(
                text(
                    f"SELECT s.name, s.kind, s.details, count(*) FROM {table} t "
                    "JOIN data_sources s ON s.id = t.source_id GROUP BY 1, 2, 3"
                )
            )
            found = rows.all()
            assert len(found) == 1 and found[0][3] > 0  # positive control: rows exist
            name, kind, details, _ = found[0]
            assert (name, kind) == ("simulator", "simulator")
            assert details["account_type"] == "simulator"
            assert details["market_data_type"] == "delayed"  # asked for
            assert details["market_data_types_seen"] == ["delayed"]  # IB's message 58
