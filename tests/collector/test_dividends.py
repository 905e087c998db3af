"""Dividends as IB delivers them (generic tick 456) become corporate_actions rows that the
validator reads."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from ib_async import IB

from alc_data import Database, DataValidator
from alc_data.collector import OptionsDataCollector
from alc_data.ib.sim import SimServer
from alc_data.ib.sim.dividends import dividends_between
from alc_data.ib.sim.instruments import underlying_by_symbol
from tests.support.collecting import collecting, small_config, until

pytestmark = pytest.mark.timeout(90)


async def _dividends(db: Database) -> list[tuple[object, ...]]:
    async with db.raw() as conn:
        rows = await conn.fetch(
            "SELECT u.symbol, c.ex_date, c.amount FROM corporate_actions c "
            "JOIN underlying_securities u ON u.id = c.underlying_id "
            "WHERE c.action_type = 'DIVIDEND' ORDER BY 1, 2"
        )
    return [tuple(r) for r in rows]


async def test_the_announced_dividend_is_stored_once_and_read_by_the_validator(
    sim: SimServer, ib: IB, db: Database, tmp_path: Path
) -> None:
    config = small_config(tmp_path, max_contracts_per_symbol=2, dividends_every=0.2)
    collector = OptionsDataCollector(db, ib, config)
    spec = underlying_by_symbol("SPY")
    assert spec is not None
    today = sim.clock.now().date()
    [upcoming, *_] = dividends_between(spec, today, today + timedelta(days=365))
    async with collecting(collector, ["SPY"]):
        await until(lambda: collector.get_stats()["dividends_stored"] == 1, within=30)
        stored = collector.get_stats()["dividends_stored"]
        await until(lambda: collector.get_stats()["ticks_collected"] > 20)
        assert collector.get_stats()["dividends_stored"] == stored  # announced again: once
    assert await _dividends(db) == [("SPY", upcoming.ex_date, pytest.approx(upcoming.amount))]
    validator = DataValidator(db)
    underlying_id = next(i.db_id for i in collector.sampler.instruments.values() if not i.is_option)
    await validator.load_dividends([underlying_id])
    recorded = validator.context().dividends[underlying_id]
    assert [day for day, _ in recorded] == [upcoming.ex_date]
    assert [amount for _, amount in recorded] == pytest.approx([upcoming.amount])
