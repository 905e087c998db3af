"""Shared helpers of the loader tests: what the simulator's model says, what the database holds."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from datetime import UTC, date, datetime
from typing import Any

from ib_async import IB
from sqlalchemy import text

from alc_data import exchange_calendar as cal
from alc_data.db.database import Database
from alc_data.ib.pacing import PacingRules
from alc_data.ib.sim import HistoryError, MarketModel, SimServer
from alc_data.loader import LoaderConfig
from alc_data.loader.plan import closed_trading_days

Row = tuple[Any, ...]

#: IB's pacing windows compressed 100x (10 minutes -> 6 s), shared by simulator and loader.
RULES = PacingRules(time_scale=0.01)

#: The loader tests' ``start_sim`` fixture: ``await start_sim(now, rules)`` -> (server, client).
SimFactory = Callable[..., Awaitable[tuple[SimServer, IB]]]

#: Wednesday 2024-03-13, 17:00 New York: after the close, a few days after the DST change.
MARCH_13 = datetime(2024, 3, 13, 21, 0, tzinfo=UTC)


class SteppedClock:
    """A pacing clock that moves only when someone sleeps on it (or a test advances it).

    Shared by the loader's scheduler and the simulator (``monotonic=clock.now``), it makes
    every pacing decision independent of how fast the machine serves the requests.
    """

    def __init__(self) -> None:
        self.t = 0.0
        self.slept: list[float] = []

    def now(self) -> float:
        return self.t

    def advance(self, seconds: float) -> None:
        self.t += seconds

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.t += seconds
        await asyncio.sleep(0)


def _none(value: float) -> float | None:
    return None if value < 0 else value


def model_rows(
    model: MarketModel, con_id: int, row_id: int, what: str, bar_size: str, days: Iterable[date]
) -> set[Row]:
    """The rows a load of these days must store, straight from the simulator's model."""
    rows: set[Row] = set()
    for day in days:
        hours = cal.session(day)
        assert hours is not None
        try:
            bars = model.bars(con_id, end=hours[1], duration="1 D", bar_size=bar_size,
                              what_to_show=what, use_rth=True)  # fmt: skip
        except HistoryError as exc:
            assert exc.code in (162, 200), exc
            continue
        for b in bars:
            count = None if b.bar_count < 0 else b.bar_count
            rows.add((row_id, what, bar_size, b.time, b.open, b.high, b.low, b.close,
                      _none(b.volume), _none(b.wap), count))  # fmt: skip
    return rows


async def stored(db: Database, table: str) -> set[Row]:
    """Every row of ``stock_bars`` or ``option_bars``."""
    key = "underlying_id" if table == "stock_bars" else "contract_id"
    sql = (f"SELECT {key}, what_to_show, bar_size, time, open, high, low, close, volume, wap, "
           f"bar_count FROM {table}")  # fmt: skip
    async with db.connect() as conn:
        return {tuple(r) for r in (await conn.execute(text(sql))).all()}


async def instruments(db: Database) -> tuple[tuple[int, int], list[tuple[int, int, date]]]:
    """(underlying id, con id) and every option's (id, con id, expiry) in the database."""
    async with db.connect() as conn:
        und = (await conn.execute(text("SELECT id, ib_con_id FROM underlying_securities"))).one()
        opts = (await conn.execute(
            text("SELECT id, ib_con_id, expiration_date FROM option_chains ORDER BY id")
        )).all()  # fmt: skip
    return (und[0], und[1]), [(o[0], o[1], o[2]) for o in opts]


async def expected(
    db: Database,
    model: MarketModel,
    config: LoaderConfig,
    start: date,
    end: date,
    now: datetime,
    option_ids: Iterable[int] | None = None,
) -> tuple[set[Row], set[Row]]:
    """The stock and option rows a complete load of ``[start, end]`` must have stored."""
    days = closed_trading_days(start, end, now)
    (und_id, und_con), options = await instruments(db)
    stock: set[Row] = set()
    for what in config.stock_what_to_show:
        stock |= model_rows(model, und_con, und_id, what, config.bar_size, days)
    for what in config.volatility_what_to_show:
        stock |= model_rows(model, und_con, und_id, what, config.volatility_bar_size, days)
    wanted = set(option_ids) if option_ids is not None else None
    option: set[Row] = set()
    for row_id, con_id, expiry in options:
        if wanted is not None and row_id not in wanted:
            continue
        live = [d for d in days if d <= expiry]
        for what in config.option_what_to_show:
            option |= model_rows(model, con_id, row_id, what, config.bar_size, live)
    return stock, option


async def statuses(db: Database) -> dict[tuple[str, int, str, str, date], tuple[str, int]]:
    """history_requests as {(kind, id, what, bar size, day): (status, bars)}."""
    sql = ("SELECT instrument_kind, instrument_id, what_to_show, bar_size, trading_day, status, "
           "bars FROM history_requests")  # fmt: skip
    async with db.connect() as conn:
        rows = (await conn.execute(text(sql))).all()
    return {(r[0], r[1], r[2], r[3], r[4]): (r[5], r[6]) for r in rows}
