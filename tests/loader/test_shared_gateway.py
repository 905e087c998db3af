"""IB's history budget is per gateway: two loaders on one simulator draw no pacing violation.

In one process the loaders share the gateway's scheduler (decided on a stepped clock shared
with the simulator); in two processes they admit their requests through the database's pacing
ledger (real time, compressed windows). The simulator enforces pacing per server: every
request it refuses is counted by wrapping its own tracker.
"""

from __future__ import annotations

import asyncio
import gc
import json
import sys
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

import pytest
from ib_async import IB
from sqlalchemy.engine import URL

from alc_data import HistoricalDataLoader
from alc_data.db import migrate
from alc_data.db.database import Database
from alc_data.errors import ConfigError, SchemaError
from alc_data.ib.pacing import HistoricalRequestKey, PacingRules
from alc_data.ib.sim import SimClock, SimConfig, SimServer
from alc_data.loader import LoaderConfig, PacingScheduler
from alc_data.loader.ledger import gateway_name
from tests.support.loading import SimFactory, SteppedClock

pytestmark = pytest.mark.timeout(120)

#: After the close of Wednesday 2024-03-20: the nearest options (03-21 dailies) were listed
#: about two weeks earlier, so early-March requests are answered "no data" at once (they count
#: for pacing all the same, and keep the simulator's work small).
MARCH_20 = datetime(2024, 3, 20, 21, 0, tzinfo=UTC)


def count_refusals(sim: SimServer) -> list[str]:
    """Every pacing violation the simulator's own tracker finds from now on."""
    refused: list[str] = []
    check: Callable[[HistoricalRequestKey, float], str | None] = sim.pacing.violation

    def counted(request: HistoricalRequestKey, now: float) -> str | None:
        broken = check(request, now)
        if broken is not None:
            refused.append(broken)
        return broken

    sim.pacing.violation = counted  # type: ignore[method-assign]  # observe the sim's own tracker
    return refused


async def _client(sim: SimServer, client_id: int) -> IB:
    ib = IB()
    await ib.connectAsync("127.0.0.1", sim.port, clientId=client_id, readonly=True)
    return ib


def test_gateway_names() -> None:
    assert gateway_name("LocalHost", 4002) == gateway_name("127.0.0.1", 4002) == "localhost:4002"
    assert gateway_name("::1", 7497) == "localhost:7497"
    assert gateway_name("gw.example", 4001) == "gw.example:4001"
    assert gateway_name("gw.example", 4001) != gateway_name("gw.example", 4002)


async def test_loaders_of_one_gateway_share_its_scheduler(
    start_sim: SimFactory, db: Database
) -> None:
    sim, ib = await start_sim(MARCH_20)
    _, other_ib = await start_sim(MARCH_20)
    second = await _client(sim, 50)
    try:
        first = HistoricalDataLoader(db, ib, LoaderConfig())
        assert HistoricalDataLoader(db, second, LoaderConfig()).scheduler is first.scheduler
        assert HistoricalDataLoader(db, other_ib).scheduler is not first.scheduler  # control
        assert first.ledger is not None and first.gateway.endswith(f":{sim.port}")
        assert HistoricalDataLoader(db, second, LoaderConfig(pacing_ledger=False)).ledger is None
        odd = HistoricalDataLoader(db, second, LoaderConfig(pacing=PacingRules(time_scale=0.5)))
        with pytest.raises(ConfigError, match="pacing rules"):
            _ = odd.scheduler
        # Once no loader holds it, the gateway's scheduler is forgotten (a port used again by
        # another test or another gateway later starts afresh).
        del first
        gc.collect()
        assert odd.scheduler.rules == PacingRules(time_scale=0.5)
    finally:
        second.disconnect()


async def test_two_loaders_in_one_process_draw_no_162(start_sim: SimFactory, db: Database) -> None:
    """Each loader alone stays under 60 (3 x 13 = 39); together they weigh 78 in one window."""
    rules = PacingRules()  # IB's limits; the stepped clock moves only when a scheduler waits
    clock = SteppedClock()
    sim, ib_a = await start_sim(MARCH_20, rules, clock.now)
    ib_b = await _client(sim, 51)
    refused = count_refusals(sim)
    config = LoaderConfig(bar_size="30 secs", max_contracts=6, sessions_per_request=1,
                          pacing=rules, volatility_what_to_show=(), max_attempts=1,
                          pacing_ledger=False)  # fmt: skip

    async def both(
        a: HistoricalDataLoader, b: HistoricalDataLoader, days: list[date]
    ) -> list[dict[str, Any]]:
        return list(
            await asyncio.gather(
                a.load_symbol_history("SPY", days[0], days[1]),
                b.load_symbol_history("SPY", days[2], days[3]),
            )
        )

    try:
        # Positive control: a scheduler each (as before) and the simulator refuses requests.
        control = await both(
            HistoricalDataLoader(db, ib_a, config, scheduler=PacingScheduler(rules, clock=clock)),
            HistoricalDataLoader(db, ib_b, config, scheduler=PacingScheduler(rules, clock=clock)),
            [date(2024, 3, 4), date(2024, 3, 6), date(2024, 3, 7), date(2024, 3, 11)],
        )
        assert refused != [] and sum(s["errors"] for s in control) > 0
        clock.advance(rules.window)
        refused.clear()

        a, b = HistoricalDataLoader(db, ib_a, config), HistoricalDataLoader(db, ib_b, config)
        assert a.scheduler is b.scheduler
        a.scheduler.clock = clock
        stats = await both(a, b, [date(2024, 3, 12), date(2024, 3, 14), date(2024, 3, 15),
                                  date(2024, 3, 19)])  # fmt: skip
    finally:
        ib_b.disconnect()
    assert refused == []
    assert [s["errors"] for s in stats] == [0, 0]
    assert [s["history_requests"] for s in stats] == [3 * 7, 3 * 7]
    assert sum(s["pacing_waits"] for s in stats) > 0  # the window did fill up
    assert max(clock.slept) > rules.window / 2


async def _load_in_subprocess(port: int, url: URL, client_id: int, days: tuple[str, str],
                              scale: float) -> tuple[int, dict[str, object], str]:  # fmt: skip
    argv = [
        "load-history", "SPY", "--start", days[0], "--end", days[1],
        "--ib", f"127.0.0.1:{port}", "--client-id", str(client_id), "--bar-size", "30 secs",
        "--max-contracts", "20", "--pacing-time-scale", str(scale), "--json",
    ]  # fmt: skip
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", "import sys; from alc_data.cli import main; sys.exit(main())",
        *argv, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        env={"ALC_DATABASE_URL": url.render_as_string(hide_password=False), "PATH": "/usr/bin",
             "HOME": "/tmp"},
    )  # fmt: skip
    out, err = await proc.communicate()
    assert proc.returncode is not None
    stats = json.loads(out.decode().strip().splitlines()[-1]) if out.strip() else {}
    return proc.returncode, stats, err.decode()


async def test_two_loader_processes_on_one_gateway_draw_no_162(
    db: Database, migrated_url: URL
) -> None:
    """Two ``alc-data load-history`` processes, 41 hard-rule weight each (20 options BID_ASK
    and the underlying), against one simulator whose 10-minute window lasts 20 s."""
    rules = PacingRules(time_scale=1 / 30)
    sim = SimServer(SimConfig(seed=11, pacing=rules), port=0, clock=SimClock(MARCH_20))
    await sim.start()
    refused = count_refusals(sim)
    try:
        results = await asyncio.gather(
            _load_in_subprocess(sim.port, migrated_url, 61, ("2024-03-04", "2024-03-06"), 1 / 30),
            _load_in_subprocess(sim.port, migrated_url, 62, ("2024-03-11", "2024-03-13"), 1 / 30),
        )
    finally:
        await sim.stop()
    for code, stats, err in results:
        assert code == 0, err
        assert stats["errors"] == 0 and stats["history_requests"] == 1 + 20 + 2, stats
    assert refused == []
    # They did contend: one waited for the other, and says so.
    assert any("is also used by loader" in err for _, _, err in results)
    assert sum(int(stats["pacing_waits"]) for _, stats, _ in results) > 0  # type: ignore[call-overload]


async def test_a_database_without_the_ledger_is_a_schema_error(
    start_sim: SimFactory, database_factory: Callable[[], URL]
) -> None:
    """A database at revision 0004 (no ``history_pacing_ledger``, no ``data_sources``): one
    typed error saying so, not a task group's traceback; migrated, the same load works
    (control)."""
    url = database_factory()
    await asyncio.to_thread(migrate.upgrade, url, "0004")
    _, ib = await start_sim(MARCH_20)
    config = LoaderConfig(bar_size="30 secs", max_contracts=1, volatility_what_to_show=(),
                          pacing=PacingRules(time_scale=0.01))  # fmt: skip
    day = date(2024, 3, 19)
    async with Database.from_url(url) as db:
        with pytest.raises(SchemaError, match="migrated"):
            await HistoricalDataLoader(db, ib, config).load_symbol_history("SPY", day, day)
    await asyncio.to_thread(migrate.upgrade, url, "head")
    async with Database.from_url(url) as db:
        stats = await HistoricalDataLoader(db, ib, config, scheduler=PacingScheduler(
            config.pacing)).load_symbol_history("SPY", day, day)  # fmt: skip
    assert stats["errors"] == 0 and stats["stock_bars_loaded"] > 0
