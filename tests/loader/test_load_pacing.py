"""Pacing by construction, and retries that lose nothing (162 injected, requests stalled)."""

from __future__ import annotations

import asyncio
import logging
import random
from dataclasses import replace
from datetime import date

import pytest
from ib_async import IB

from alc_data import HistoricalDataLoader
from alc_data.db.database import Database
from alc_data.ib.pacing import HistoricalRequestKey, PacingRules, PacingTracker
from alc_data.loader import LoaderConfig, LoadProgress, PacingScheduler
from tests.support.loading import (
    MARCH_13,
    RULES,
    SimFactory,
    SteppedClock,
    expected,
    statuses,
    stored,
)

pytestmark = pytest.mark.timeout(60)


def _errors(ib: IB) -> list[tuple[int, str]]:
    seen: list[tuple[int, str]] = []
    ib.errorEvent += lambda req_id, code, message, contract: seen.append((code, message))
    return seen


def _violations(seen: list[tuple[int, str]]) -> list[tuple[int, str]]:
    return [e for e in seen if e[0] == 162 and "pacing violation" in e[1]]


async def test_scheduler_never_breaks_a_rule_despite_network_and_server_delays() -> None:
    """A server-side tracker checks each request when it 'arrives' (after a random delay)."""
    rules = PacingRules(time_scale=0.002)  # 10 minutes -> 1.2 s
    scheduler = PacingScheduler(rules)
    server = PacingTracker(rules)
    violations: list[str] = []
    rng = random.Random(5)
    loop = asyncio.get_running_loop()

    async def request(i: int) -> None:
        contract = str(i % 3)  # few contracts: the 2-second rule matters too
        key = HistoricalRequestKey(contract, "SMART", rng.choice(["BID_ASK", "TRADES"]),
                                   "30 secs", "1800 S", f"e{i % 4}")  # fmt: skip
        async with scheduler.slot(key):
            await asyncio.sleep(rng.uniform(0, 0.01))  # on the way to the server
            if (broken := server.violation(key, loop.time())) is not None:
                violations.append(broken)
            server.record(key, loop.time())
            await asyncio.sleep(rng.uniform(0, 0.01))  # computing and sending the answer

    await asyncio.gather(*(request(i) for i in range(90)))
    assert violations == []
    assert scheduler.sent == 90 and scheduler.waits > 0


async def test_default_rules_never_provoke_a_162(start_sim: SimFactory, db: Database) -> None:
    """30-second bars fall under the hard rules: 10 options x 3 days of BID_ASK (counting twice)
    and the underlying's 3 requests weigh 63, more than the 60 one window allows.

    Scheduler and simulator read one stepped clock that moves only when the scheduler waits, so
    the 63 land in one window however slowly the machine serves them (on the wall clock they
    took longer than a compressed window, and the scheduler rightly never had to wait).
    """
    rules = PacingRules()  # IB's limits, unscaled: waiting costs no wall time on this clock
    clock = SteppedClock()
    sim, ib = await start_sim(MARCH_13, rules, clock.now)
    seen = _errors(ib)
    config = LoaderConfig(
        bar_size="30 secs", max_contracts=10, sessions_per_request=1, pacing=rules,
        volatility_what_to_show=(), max_attempts=1, pacing_ledger=False,
    )  # fmt: skip

    # Positive control: a scheduler that ignores the 60-per-window rule draws 162s here.
    lax = PacingScheduler(replace(rules, max_requests=10**6), clock=clock)
    control = await HistoricalDataLoader(db, ib, config, scheduler=lax).load_symbol_history(
        "SPY", date(2024, 3, 4), date(2024, 3, 6)
    )
    assert control["history_requests"] == 3 * 11
    assert control["errors"] > 0 and _violations(seen) != []
    clock.advance(rules.window)
    seen.clear()

    start, end = date(2024, 3, 11), date(2024, 3, 13)
    scheduler = PacingScheduler(rules, clock=clock)
    loader = HistoricalDataLoader(db, ib, config, scheduler=scheduler)
    stats = await loader.load_symbol_history("SPY", start, end)

    assert [e for e in seen if e[0] == 162] == []
    assert stats["errors"] == 0
    assert stats["history_requests"] == 3 * 11  # 3 days x (10 options + the underlying)
    assert stats["pacing_waits"] > 0 and max(clock.slept) > rules.window / 2
    want_stock, want_option = await expected(db, sim.model, config, start, end, MARCH_13)
    assert {r for r in await stored(db, "stock_bars") if r[3].date() >= start} == want_stock
    assert {r for r in await stored(db, "option_bars") if r[3].date() >= start} == want_option


async def test_injected_162s_are_retried_and_lose_nothing(
    start_sim: SimFactory, db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    sim, ib = await start_sim(MARCH_13)
    seen = _errors(ib)
    config = LoaderConfig(max_contracts=2, pacing=RULES, backoff=5.0)
    sim.faults.violate_pacing(3)
    start, end = date(2024, 3, 11), date(2024, 3, 12)
    with caplog.at_level(logging.INFO):
        stats = await HistoricalDataLoader(db, ib, config).load_symbol_history("SPY", start, end)

    assert [e[0] for e in seen].count(162) == 3
    assert stats["errors"] == 0
    assert stats["ib_errors"] == {"162": 3}  # counted, though every retry succeeded
    # Logged once (with the count at the end), not once per error by ib_async as well.
    told = [r.getMessage() for r in caplog.records if "162" in r.getMessage()]
    assert len([m for m in told if "further ones are counted" in m]) == 1
    assert [m for m in told if m.startswith("Error 162")] == []
    assert any("162 x 3" in m for m in told)
    assert logging.getLogger("ib_async.wrapper").filters == []  # ib_async logs again after
    assert stats["history_requests"] == 5 + 3  # five planned requests, three retries
    want_stock, want_option = await expected(db, sim.model, config, start, end, MARCH_13)
    assert await stored(db, "stock_bars") == want_stock
    assert await stored(db, "option_bars") == want_option
    done = sum(1 for s, _ in (await statuses(db)).values() if s == "done")
    assert done == 5 * 2  # every day of every request


async def test_a_timed_out_request_is_retried(start_sim: SimFactory, db: Database) -> None:
    sim, ib = await start_sim(MARCH_13)
    config = LoaderConfig(max_contracts=1, pacing=RULES, request_timeout=0.5, backoff=10.0)
    sim.faults.stall("history")  # no history request is answered ...
    unstall: list[asyncio.TimerHandle] = []

    def on_progress(progress: LoadProgress) -> None:
        if not unstall:  # ... until 0.3 s after the first requests went out
            unstall.append(asyncio.get_running_loop().call_later(0.3, sim.faults.unstall))

    loader = HistoricalDataLoader(db, ib, config, on_progress=on_progress)
    start = end = date(2024, 3, 12)
    stats = await loader.load_symbol_history("SPY", start, end)

    assert stats["errors"] == 0
    assert stats["history_requests"] == 2 * 4  # every request timed out once, then answered
    want_stock, want_option = await expected(db, sim.model, config, start, end, MARCH_13)
    assert await stored(db, "option_bars") == want_option
    assert await stored(db, "stock_bars") == want_stock


async def test_requests_that_keep_failing_are_recorded_failed_and_retried_next_run(
    start_sim: SimFactory, db: Database
) -> None:
    sim, ib = await start_sim(MARCH_13)
    config = LoaderConfig(max_contracts=1, pacing=RULES, max_attempts=2, backoff=1.0,
                          volatility_what_to_show=())  # fmt: skip
    sim.faults.violate_pacing(4)  # both requests fail twice
    day = date(2024, 3, 12)
    stats = await HistoricalDataLoader(db, ib, config).load_symbol_history("SPY", day, day)
    assert stats["errors"] == 2 and stats["option_bars_loaded"] == 0
    recorded = await statuses(db)
    assert {s for s, _ in recorded.values()} == {"failed"}

    again = await HistoricalDataLoader(db, ib, replace(config)).load_symbol_history("SPY", day, day)
    assert again["errors"] == 0 and again["history_requests"] == 2
    assert {s for s, _ in (await statuses(db)).values()} == {"done"}
