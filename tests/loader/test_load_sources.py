"""The loader records its source from the connection, and its resume state is per source:
a day loaded from the simulator is not "complete" for a broker account, and the reverse."""

from __future__ import annotations

from datetime import date

from ib_async import IB
from sqlalchemy import text

from alc_data import HistoricalDataLoader
from alc_data.db.database import Database
from alc_data.ib.sim import SimClock, SimConfig, SimServer
from alc_data.loader import LoaderConfig
from tests.support.loading import MARCH_13, RULES, SimFactory

CONFIG = LoaderConfig(max_contracts=1, pacing=RULES, volatility_what_to_show=())


async def _rows_per_source(db: Database, table: str) -> dict[str, int]:
    async with db.engine.connect() as conn:
        rows = await conn.execute(
            text(
                f"SELECT s.name, count(*) FROM {table} t JOIN data_sources s "
                "ON s.id = t.source_id GROUP BY 1"
            )
        )
        return {name: n for name, n in rows}


async def test_resume_state_and_bars_are_per_source(start_sim: SimFactory, db: Database) -> None:
    config = CONFIG
    day = date(2024, 3, 12)
    _sim, ib = await start_sim(MARCH_13)
    first = await HistoricalDataLoader(db, ib, config).load_symbol_history("SPY", day, day)
    assert first["history_requests"] > 0 and first["errors"] == 0
    sim_bars = await _rows_per_source(db, "option_bars")
    assert set(sim_bars) == {"simulator"} and sim_bars["simulator"] > 0
    assert set(await _rows_per_source(db, "history_requests")) == {"simulator"}

    again = await HistoricalDataLoader(db, ib, config).load_symbol_history("SPY", day, day)
    assert again["history_requests"] == 0  # complete for this source

    # The same market through a gateway whose account is a paper one (DU...): a new source.
    paper = SimServer(
        SimConfig(seed=11, pacing=RULES, account="DU7654321"), port=0, clock=SimClock(MARCH_13)
    )
    await paper.start()
    paper_ib = IB()
    try:
        await paper_ib.connectAsync("127.0.0.1", paper.port, clientId=9, readonly=True)
        other = await HistoricalDataLoader(db, paper_ib, config).load_symbol_history(
            "SPY", day, day
        )
    finally:
        paper_ib.disconnect()
        await paper.stop()
    assert other["history_requests"] == first["history_requests"]  # not skipped
    by_source = await _rows_per_source(db, "option_bars")
    assert by_source == {"simulator": sim_bars["simulator"], "ib-paper": sim_bars["simulator"]}
    assert set(await _rows_per_source(db, "history_requests")) == {"simulator", "ib-paper"}
