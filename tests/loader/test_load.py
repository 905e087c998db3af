"""The loader against the simulator (real ib_async client) and a real database."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import asyncpg
import pytest
from sqlalchemy import text
from sqlalchemy.engine import URL

from alc_data import HistoricalDataLoader
from alc_data import exchange_calendar as cal
from alc_data.db.database import Database
from alc_data.loader import STATS_KEYS, LoaderConfig
from alc_data.repositories import OptionBarRepository
from tests.support.loading import (
    MARCH_13,
    RULES,
    SimFactory,
    expected,
    instruments,
    statuses,
    stored,
)

pytestmark = pytest.mark.timeout(60)

CONFIG = LoaderConfig(max_contracts=3, pacing=RULES)


async def test_one_week_stores_exactly_the_model_bars_and_a_rerun_requests_nothing(
    start_sim: SimFactory, db: Database
) -> None:
    sim, ib = await start_sim(MARCH_13)
    loader = HistoricalDataLoader(db, ib, CONFIG)
    stats = await loader.load_symbol_history("SPY", date(2024, 3, 4), date(2024, 3, 8))

    assert tuple(stats) == STATS_KEYS
    want_stock, want_option = await expected(
        db, sim.model, CONFIG, date(2024, 3, 4), date(2024, 3, 8), MARCH_13
    )
    assert len(want_option) == 3 * 5 * 390  # three options, five sessions, 1-minute bars
    assert await stored(db, "stock_bars") == want_stock
    assert await stored(db, "option_bars") == want_option
    assert stats["stock_bars_loaded"] == len(want_stock)
    assert stats["option_bars_loaded"] == len(want_option)
    assert stats["errors"] == stats["unavailable_expired"] == stats["skipped_complete"] == 0
    # 1 underlying TRADES + 2 volatility series + 3 options, five sessions per request
    assert stats["history_requests"] == 6

    again = await HistoricalDataLoader(db, ib, CONFIG).load_symbol_history(
        "SPY", date(2024, 3, 4), date(2024, 3, 8)
    )
    assert again["history_requests"] == 0
    assert again["stock_bars_loaded"] == again["option_bars_loaded"] == 0
    assert again["skipped_complete"] == 6 * 5
    assert await stored(db, "option_bars") == want_option
    assert {s for s, _ in (await statuses(db)).values()} == {"done"}


async def test_end_date_is_included_and_times_are_utc(start_sim: SimFactory, db: Database) -> None:
    _sim, ib = await start_sim(MARCH_13)
    config = replace(CONFIG, max_contracts=1)
    stats = await HistoricalDataLoader(db, ib, config).load_symbol_history(
        "SPY", date(2024, 3, 7), date(2024, 3, 8)
    )
    assert stats["errors"] == 0
    rows = await stored(db, "option_bars")
    days = {r[3].astimezone(cal.EXCHANGE_TZ).date() for r in rows}
    assert days == {date(2024, 3, 7), date(2024, 3, 8)}
    assert all(r[3].utcoffset() == timedelta(0) for r in rows)
    last = max(r[3] for r in rows)
    assert last == datetime(2024, 3, 8, 20, 59, tzinfo=UTC)  # 15:59 EST, the end day's last bar


async def test_daylight_saving_change_inside_the_window(
    start_sim: SimFactory, migrated_url: URL, db: Database
) -> None:
    """2024-03-10: New York moves to EDT; the session opens at 14:30 UTC before, 13:30 after.

    The loader is given an ``asyncpg.Pool`` (the documented ``HistoricalDataLoader(db_pool, ib)``).
    """
    sim, ib = await start_sim(MARCH_13)
    config = replace(CONFIG, max_contracts=2)
    dsn = migrated_url.set(drivername="postgresql").render_as_string(hide_password=False)
    pool = await asyncpg.create_pool(dsn, min_size=1, max_size=4)
    try:
        loader = HistoricalDataLoader(pool, ib, config)
        stats = await loader.load_symbol_history("SPY", date(2024, 3, 8), date(2024, 3, 12))
    finally:
        await pool.close()
    assert stats["errors"] == 0
    want_stock, want_option = await expected(
        db, sim.model, config, date(2024, 3, 8), date(2024, 3, 12), MARCH_13
    )
    assert await stored(db, "stock_bars") == want_stock
    assert await stored(db, "option_bars") == want_option
    firsts: dict[date, datetime] = {}
    for row in want_stock:
        if row[1] == "TRADES":
            day = row[3].astimezone(cal.EXCHANGE_TZ).date()
            firsts[day] = min(firsts.get(day, row[3]), row[3])
    assert firsts == {
        date(2024, 3, 8): datetime(2024, 3, 8, 14, 30, tzinfo=UTC),
        date(2024, 3, 11): datetime(2024, 3, 11, 13, 30, tzinfo=UTC),
        date(2024, 3, 12): datetime(2024, 3, 12, 13, 30, tzinfo=UTC),
    }


async def test_killed_load_resumes_and_ends_with_the_same_rows(
    start_sim: SimFactory, db: Database
) -> None:
    sim, ib = await start_sim(MARCH_13)
    config = replace(CONFIG, sessions_per_request=1, concurrency=1)
    start, end = date(2024, 3, 4), date(2024, 3, 12)
    task = asyncio.create_task(HistoricalDataLoader(db, ib, config).load_symbol_history(
        "SPY", start, end
    ))  # fmt: skip
    for _ in range(500):  # until a few days are recorded, then kill the load
        await asyncio.sleep(0.02)
        if len(await statuses(db)) >= 8:
            break
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    recorded = len(await statuses(db))
    assert 8 <= recorded < 7 * 6  # 7 trading days x (3 options + 3 underlying series)

    stats = await HistoricalDataLoader(db, ib, config).load_symbol_history("SPY", start, end)
    assert stats["errors"] == 0
    assert stats["skipped_complete"] == recorded
    # Only the rest is requested: the volatility series are one request each (whole window).
    assert stats["history_requests"] < 7 * 4 + 2
    want_stock, want_option = await expected(db, sim.model, config, start, end, MARCH_13)
    assert await stored(db, "stock_bars") == want_stock
    assert await stored(db, "option_bars") == want_option


async def test_bars_are_readable_through_the_repository(
    start_sim: SimFactory, db: Database
) -> None:
    _sim, ib = await start_sim(MARCH_13)
    config = replace(CONFIG, max_contracts=1)
    await HistoricalDataLoader(db, ib, config).load_symbol_history(
        "SPY", date(2024, 3, 11), date(2024, 3, 11)
    )
    _, [(contract_id, _, _)] = await instruments(db)
    start = datetime(2024, 3, 11, 13, 30, tzinfo=UTC)
    end = datetime(2024, 3, 11, 20, 0, tzinfo=UTC)
    async with db.session() as session:
        repo = OptionBarRepository(session)
        minute = await repo.bars(contract_id, interval="1 min", start=start, end=end)
        five = await repo.bars(contract_id, interval="5 mins", start=start, end=end)
        hour = await repo.bars(contract_id, interval=timedelta(hours=1), start=start, end=end)
        raw = await repo.stored(contract_id, bar_size="1 min", what_to_show="BID_ASK",
                                start=start, end=end)  # fmt: skip
    assert len(minute) == 390 and len(five) == 78 and len(hour) == 7
    assert {b.basis for b in minute + five + hour} == {"bars"}
    assert (
        minute[0].time == start and minute[0].bid == raw[0].open and minute[0].ask == raw[0].close
    )
    assert five[1].close == minute[9].close  # the 5-minute bar ends with its last minute
    assert hour[-1].time == datetime(2024, 3, 11, 19, 0, tzinfo=UTC)


async def test_expired_options_are_reported_unavailable(
    start_sim: SimFactory, db: Database
) -> None:
    """Options loaded on 03-13 are the nearest expiry (a SPY daily): a later load of their
    week, after that expiry, cannot get the days it missed."""
    sim, ib = await start_sim(MARCH_13)
    config = replace(CONFIG, max_contracts=2)
    first = await HistoricalDataLoader(db, ib, config).load_symbol_history(
        "SPY", date(2024, 3, 12), date(2024, 3, 13)
    )
    _, options = await instruments(db)
    expiries = {o[2] for o in options}
    assert first["errors"] == 0 and first["option_bars_loaded"] > 0 and len(expiries) == 1
    (expiry,) = expiries
    assert date(2024, 3, 13) <= expiry <= date(2024, 3, 15)  # the nearest expiry of that week
    sim.clock.freeze(datetime(2024, 3, 20, 21, 0, tzinfo=UTC))

    later = await HistoricalDataLoader(db, ib, config).load_symbol_history(
        "SPY", date(2024, 3, 11), date(2024, 3, 15)
    )
    assert later["unavailable_expired"] == 2
    assert later["errors"] == 0
    recorded = await statuses(db)
    loaded = {date(2024, 3, 12), date(2024, 3, 13)}
    week = [date(2024, 3, 11) + timedelta(days=n) for n in range(5)]
    for option_id, _, _ in options:
        by_day = {k[4]: v[0] for k, v in recorded.items() if k[:2] == ("option", option_id)}
        assert by_day == {
            day: "done" if day in loaded else "unavailable" for day in week if day <= expiry
        }
        assert "unavailable" in by_day.values()  # 03-11 at least: missed, and now expired
    again = await HistoricalDataLoader(db, ib, config).load_symbol_history(
        "SPY", date(2024, 3, 11), date(2024, 3, 15)
    )
    assert again["history_requests"] == 0 and again["unavailable_expired"] == 2


async def test_an_empty_answer_is_recorded_and_not_asked_again(
    start_sim: SimFactory, db: Database
) -> None:
    """03-22 weeklies are listed on 02-09: IB has no bars for them in early February."""
    now = datetime(2024, 3, 19, 21, 0, tzinfo=UTC)
    _sim, ib = await start_sim(now)
    config = replace(CONFIG, max_contracts=2, expiry_range_days=4)
    stats = await HistoricalDataLoader(db, ib, config).load_symbol_history(
        "SPY", date(2024, 2, 5), date(2024, 2, 6)
    )
    assert stats["errors"] == 0 and stats["option_bars_loaded"] == 0
    assert stats["stock_bars_loaded"] > 0
    option_status = {v[0] for k, v in (await statuses(db)).items() if k[0] == "option"}
    assert option_status == {"empty"}
    again = await HistoricalDataLoader(db, ib, config).load_symbol_history(
        "SPY", date(2024, 2, 5), date(2024, 2, 6)
    )
    assert again["history_requests"] == 0


async def test_backfill_gaps_follows_the_exchange_calendar(
    start_sim: SimFactory, db: Database
) -> None:
    """Window 06-29..07-09 2024: 07-03 closes at 13:00, 07-04 is a holiday."""
    now = datetime(2024, 7, 9, 21, 0, tzinfo=UTC)
    sim, ib = await start_sim(now)
    config = replace(CONFIG, max_contracts=1)
    loader = HistoricalDataLoader(db, ib, config)
    first = await loader.backfill_gaps("SPY", days_back=10)
    assert first["errors"] == 0 and first["start_date"] == date(2024, 6, 29)
    days = {k[4] for k in await statuses(db)}
    assert days == {date(2024, 7, d) for d in (1, 2, 3, 5, 8, 9)}
    want_stock, want_option = await expected(
        db, sim.model, config, date(2024, 6, 29), date(2024, 7, 9), now
    )
    early = [r for r in want_option if r[3].astimezone(cal.EXCHANGE_TZ).date() == date(2024, 7, 3)]
    assert len(early) == 210  # 09:30-13:00

    # Lose bars of one day (rows deleted behind the loader's back), then backfill.
    async with db.begin() as conn:
        await conn.execute(text(
            "DELETE FROM option_bars WHERE time >= '2024-07-05 15:00+00' "
            "AND time < '2024-07-05 16:00+00'"
        ))  # fmt: skip
    second = await loader.backfill_gaps("SPY", days_back=10)
    assert second["history_requests"] == 1  # only that option's 07-05
    assert second["option_bars_loaded"] == 60
    assert await stored(db, "option_bars") == want_option
    assert await stored(db, "stock_bars") == want_stock
    third = await loader.backfill_gaps("SPY", days_back=10)
    assert third["history_requests"] == 0
