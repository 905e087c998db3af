"""Hand-built chain states for the scanner tests."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from alc_data.db.rows import ChainSnapshot, ContractQuote, StockTick

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
