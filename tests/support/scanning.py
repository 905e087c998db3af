"""Hand-built chain states for the scanner tests."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import text

from alc_data import Database
from alc_data.db.rows import ChainSnapshot, ContractQuote, OptionTick, StockTick
from alc_data.repositories import Repositories

AS_OF = datetime(2026, 11, 18, 16, 0, 30, tzinfo=UTC)  # a Wednesday, 11:00:30 New York
NEAR = date(2026, 11, 20)  # a Friday: SPY options close 16:15 New York (21:15 UTC)
FAR = date(2026, 11, 27)

_ids = iter(range(1000, 100_000))


def quote(
    expiry: date, strike: float, right: str, bid: float | None, ask: float | None, *,
    size: int = 10, at: datetime = AS_OF, contract_id: int | None = None,
) -> ContractQuote:  # fmt: skip
    """One contract's quote (sizes 10 by default, quoted at ``at``)."""
    cid = contract_id if contract_id is not None else next(_ids)
    return ContractQuote(
        cid, expiry, Decimal(str(strike)), right, 100, "SPY", None, cid + 1_000_000, at,
        bid, ask, None, size, size, None, None, None, None, None, None, None, None, "ticks",
    )  # fmt: skip


def stock(bid: float, ask: float, *, at: datetime = AS_OF, size: float = 500) -> StockTick:
    """The underlying's quote."""
    return StockTick(1, at, (bid + ask) / 2, bid, ask, size, size)


def chain(quotes: list[ContractQuote], underlying: StockTick | None = None,
          as_of: datetime = AS_OF) -> ChainSnapshot:  # fmt: skip
    """A SPY chain state."""
    return ChainSnapshot("SPY", 1, as_of, underlying, quotes, "ticks" if underlying else None)


def seconds(n: float) -> timedelta:
    return timedelta(seconds=n)


#: (expiry, strike, right) -> (bid, ask) at the three instants; the conversion at 100 lasts
#: two instants, the calendar from the third on, no box (100, 110) at any.
QUOTES = {
    (NEAR, 100, "C"): [(2.50, 2.52), (2.50, 2.52), (2.45, 2.47)],
    (NEAR, 100, "P"): [(2.40, 2.42), (2.40, 2.42), (2.46, 2.48)],
    (NEAR, 110, "C"): [(0.10, 0.12)] * 3,
    (NEAR, 110, "P"): [(10.02, 10.15)] * 3,
    (FAR, 100, "C"): [(2.60, 2.62), (2.60, 2.62), (2.30, 2.32)],
}
STEP = timedelta(seconds=1)


async def seed_chain(db: Database) -> int:
    """SPY and the contracts of QUOTES with their ticks at three instants a second apart."""
    async with db.session() as session:
        sql = "INSERT INTO underlying_securities (symbol) VALUES ('SPY') RETURNING id"
        uid = int((await session.execute(text(sql))).scalar_one())
        ids = {}
        for n, (expiry, strike, right) in enumerate(QUOTES):
            ids[(expiry, strike, right)] = int((await session.execute(text(
                "INSERT INTO option_chains (underlying_id, expiration_date, strike_price, "
                "option_type, trading_class, contract_symbol, ib_con_id) VALUES "
                "(:u, :e, :k, :r, 'SPY', :s, :c) RETURNING id"),
                {"u": uid, "e": expiry, "k": strike, "r": right, "s": f"SPY{n}", "c": 9000 + n},
            )).scalar_one())  # fmt: skip
        repos = Repositories(session)
        ticks = [
            OptionTick(ids[key], AS_OF + k * STEP, bid, ask, None, 10, 10)
            for key, series in QUOTES.items() for k, (bid, ask) in enumerate(series)
        ]  # fmt: skip
        await repos.ticks.add_many(ticks)
        stock = [StockTick(uid, AS_OF + k * STEP, 100.01, 100.00, 100.02, 500, 500)
                 for k in range(3)]  # fmt: skip
        await repos.stock_ticks.add_many(stock)
    return uid
