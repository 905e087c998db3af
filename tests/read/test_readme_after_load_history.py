"""The README's strategy example on a fresh database that only ran ``load-history``."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from ib_async import IB
from sqlalchemy import text
from sqlalchemy.engine import URL

from alc_data.db import migrate
from alc_data.db.database import Database
from alc_data.ib.pacing import PacingRules
from alc_data.ib.sim import SimClock, SimConfig, SimServer
from alc_data.loader import HistoricalDataLoader, LoaderConfig

pytestmark = pytest.mark.timeout(240)

README = Path(__file__).resolve().parents[2] / "README.md"
#: Friday 2026-11-20, 17:00 New York: after the close of the day the README's example reads.
AFTER_CLOSE = datetime(2026, 11, 20, 22, 0, tzinfo=UTC)


async def test_strategy_example_answers_from_history_bars(
    database_factory: Callable[[], URL],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    url = database_factory()
    migrate.upgrade(url, "head")
    sim = SimServer(SimConfig(seed=11, pacing=PacingRules(time_scale=0.01)), port=0,
                    clock=SimClock(AFTER_CLOSE))  # fmt: skip
    await sim.start()
    ib = IB()
    try:
        await ib.connectAsync("127.0.0.1", sim.port, clientId=1, readonly=True)
        config = LoaderConfig(
            pacing=PacingRules(time_scale=0.01), expiry_range_days=30, strike_range_percent=0.004
        )
        async with Database.from_url(url) as db:
            stats = await HistoricalDataLoader(db, ib, config).load_symbol_history(
                "SPY", start_date=date(2026, 11, 20), end_date=date(2026, 11, 20)
            )
            async with db.connect() as conn:
                ticks = (await conn.execute(text("SELECT count(*) FROM market_data_ticks"))).one()
                dec = await conn.execute(
                    text("SELECT count(*) FROM option_chains WHERE expiration_date = '2026-12-18'")
                )
                december = dec.scalar_one()
    finally:
        ib.disconnect()
        await sim.stop()
    assert stats["option_bars_loaded"] > 0 and ticks[0] == 0 and december > 0

    monkeypatch.setenv("ALC_DATABASE_URL", url.render_as_string(hide_password=False))
    example = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)[0]
    code = compile(example, "README.md", "exec")
    await asyncio.to_thread(exec, code, {"__name__": "readme"})  # it calls asyncio.run

    out = capsys.readouterr().out.split("\n")
    assert float(out[0]) > 0  # the underlying's price, from its TRADES bars
    quoted = [line.split() for line in out[1:] if line.startswith("SPY")]
    assert len(quoted) == december
    bid, ask = float(quoted[0][-5]), float(quoted[0][-4])
    assert 0 < bid <= ask  # a BID_ASK bar's time-average bid and ask
