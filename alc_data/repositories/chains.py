"""Option chains: one row per listed contract, kept after expiry; the as-of chain snapshot."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select, text, update
from sqlalchemy.dialects.postgresql import insert

from alc_data.db import snapshot_sql
from alc_data.db.models import OptionContract
from alc_data.db.rows import ChainSnapshot, ContractQuote, StockTick
from alc_data.db.snapshot_sql import contract_columns
from alc_data.db.translate import translating
from alc_data.errors import DataError
from alc_data.repositories.base import Repository, aware
from alc_data.repositories.securities import SecurityRepository
from alc_data.repositories.source_choice import SourceSelection, choose_source

_NATURAL_KEY = (
    "underlying_id",
    "expiration_date",
    "strike_price",
    "option_type",
    "trading_class",
    "multiplier",
)

_BIND = {
    "underlying_id": ":underlying_id",
    "trade_date": ":trade_date",
    "expiry": "CAST(:expiry AS date)",
    "as_of": ":as_of",
    "oldest": ":oldest",
    "oldest_bar": ":oldest_bar",
    "contract_ids": "CAST(:contract_ids AS bigint[])",
}


_CONTRACTS_SQL = """
SELECT id FROM option_chains
WHERE underlying_id = :underlying_id AND expiration_date >= :trade_date
  AND (CAST(:expiry AS date) IS NULL OR expiration_date = CAST(:expiry AS date))
"""

_MICROSECOND = timedelta(microseconds=1)
_NO_SOURCE = -1  # no source holds rows there: the snapshot has no quotes


def _snapshot_queries() -> tuple[str, str, str, str]:
    """The four snapshot queries with bind parameters; every row of one source (``:source``)."""
    quotes = {**_BIND, "ticks_source": "m.source_id = :source"}
    bars = {**_BIND, "bars_source": "o.source_id = :source"}
    stock = {
        **_BIND,
        "ticks_source": "s.source_id = :source",
        "bars_source": "o.source_id = :source",
    }
    return (
        snapshot_sql.TICK_QUOTES.format(contracts=contract_columns(), **quotes),
        snapshot_sql.BAR_QUOTES.format(**bars),
        snapshot_sql.UNDERLYING_TICK.format(**stock),
        snapshot_sql.UNDERLYING_BAR.format(**stock),
    )


#: Far enough back to mean "no lower bound" while still being a valid timestamptz.
_EPOCH = datetime.fromisoformat("1970-01-01T00:00:00+00:00")


def _strike(value: Decimal | float | int | str) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.0001"))


def _multiplier(value: int | str) -> int:
    try:
        number = Decimal(str(value))
    except ArithmeticError as exc:
        raise DataError(f"multiplier {value!r} is not a number") from exc
    if number != number.to_integral_value() or number <= 0:
        raise DataError(f"multiplier {value!r} is not a positive integer")
    return int(number)


class OptionChainRepository(Repository[OptionContract]):
    """``option_chains``: upserts by IB conId or natural key, chains and as-of snapshots."""

    model_type = OptionContract

    async def by_con_id(self, ib_con_id: int) -> OptionContract | None:
        """The contract with IB conId ``ib_con_id``, or None."""
        stmt = select(OptionContract).where(OptionContract.ib_con_id == ib_con_id)
        with translating():
            return (await self.session.scalars(stmt)).one_or_none()

    async def upsert(
        self,
        underlying_id: int,
        *,
        expiration_date: date,
        strike_price: Decimal | float | int | str,
        option_type: str,
        trading_class: str,
        multiplier: int | str = 100,
        exchange: str = "SMART",
        currency: str = "USD",
        contract_symbol: str | None = None,
        ib_con_id: int | None = None,
        active: bool = True,
    ) -> OptionContract:
        """Insert the contract or update it: by IB conId when given, else by natural key.

        ``multiplier`` may be IB's string (``"100"``); it is stored as an int. Stored values
        are kept for arguments passed as None (``contract_symbol``, ``ib_con_id``).
        """
        values: dict[str, Any] = {
            "underlying_id": underlying_id,
            "expiration_date": expiration_date,
            "strike_price": _strike(strike_price),
            "option_type": option_type.upper()[:1],
            "trading_class": trading_class,
            "multiplier": _multiplier(multiplier),
            "exchange": exchange,
            "currency": currency,
            "contract_symbol": contract_symbol,
            "ib_con_id": ib_con_id,
            "active": active,
        }
        with translating():
            if ib_con_id is not None:
                found = await self._update_by_con_id(values)
                if found is not None:
                    return found
            return await self._upsert_by_natural_key(values)

    async def _update_by_con_id(self, values: dict[str, Any]) -> OptionContract | None:
        table = OptionContract.__table__.c
        changes = {k: v for k, v in values.items() if v is not None}
        changes["contract_symbol"] = func.coalesce(values["contract_symbol"], table.contract_symbol)
        stmt = (
            update(OptionContract)
            .where(OptionContract.ib_con_id == values["ib_con_id"])
            .values(**changes, updated_at=func.now())
            .returning(OptionContract)
        )
        result = await self.session.scalars(stmt, execution_options={"populate_existing": True})
        return result.one_or_none()

    async def _upsert_by_natural_key(self, values: dict[str, Any]) -> OptionContract:
        stmt = insert(OptionContract).values(**values)
        table = OptionContract.__table__.c
        keep = ("contract_symbol", "ib_con_id")
        changes: dict[str, Any] = {
            k: func.coalesce(stmt.excluded[k], table[k]) if k in keep else stmt.excluded[k]
            for k in values
            if k not in _NATURAL_KEY
        }
        changes["updated_at"] = func.now()
        stmt = stmt.on_conflict_do_update(index_elements=list(_NATURAL_KEY), set_=changes)
        result = await self.session.scalars(
            stmt.returning(OptionContract), execution_options={"populate_existing": True}
        )
        return result.one()

    async def chain(
        self, symbol: str, *, expiry: date | None = None, include_expired: bool = True
    ) -> list[OptionContract]:
        """Every contract of ``symbol`` (expired ones too unless ``include_expired=False``)."""
        underlying = await SecurityRepository(self.session).require(symbol)
        where = [OptionContract.underlying_id == underlying.id]
        if expiry is not None:
            where.append(OptionContract.expiration_date == expiry)
        if not include_expired:
            where.append(OptionContract.expiration_date >= func.current_date())
        order = [
            OptionContract.expiration_date,
            OptionContract.strike_price,
            OptionContract.option_type,
        ]
        return await self.list(*where, order_by=order)

    async def expirations(self, symbol: str) -> list[date]:
        """The distinct expiration dates stored for ``symbol``."""
        underlying = await SecurityRepository(self.session).require(symbol)
        stmt = (
            select(OptionContract.expiration_date)
            .where(OptionContract.underlying_id == underlying.id)
            .distinct()
            .order_by(OptionContract.expiration_date)
        )
        with translating():
            return list((await self.session.scalars(stmt)).all())

    async def deactivate_expired(self, *, today: date) -> int:
        """Mark contracts expiring before ``today`` inactive (never deleted); returns how many."""
        stmt = (
            update(OptionContract)
            .where(OptionContract.expiration_date < today, OptionContract.active.is_(True))
            .values(active=False, updated_at=func.now())
        )
        with translating():
            result = await self.session.execute(stmt)
        return int(result.rowcount)  # type: ignore[attr-defined]

    async def chain_snapshot(
        self,
        symbol: str,
        *,
        as_of: datetime,
        expiry: date | None = None,
        max_age: timedelta | None = None,
        include_unquoted: bool = False,
        source: SourceSelection = None,
    ) -> ChainSnapshot:
        """Every contract of the chain with its latest quote at or before ``as_of``.

        Quotes come from ticks where the contract has one, else from its latest stored history
        bar that had ended by ``as_of`` (BID_ASK, else MIDPOINT); each quote's ``basis`` says
        which. Contracts that expired before ``as_of``'s trading date (New York) are left out;
        so are contracts with no quote at or before ``as_of`` unless ``include_unquoted``. A
        quote exactly at ``as_of`` counts. ``max_age`` ignores quotes older than
        ``as_of - max_age`` (bars: older than 10 days when not given). The underlying comes
        from its latest stock tick, else its latest ended stock bar (``underlying_basis``).

        Every quote is of one source: ``source`` (a ``data_sources`` name or id), else the
        one source holding ticks or bars of the chain or its underlying in the window the
        snapshot looks at, else ``ALC_DEFAULT_SOURCE``.

        Raises:
            AmbiguousSourceError: several sources quote the chain there and none was chosen.
        """
        as_of = aware(as_of, "as_of")
        underlying = await SecurityRepository(self.session).require(symbol)
        params = snapshot_params(underlying.id, as_of, expiry, max_age)
        tick_sql, bar_sql, stock_sql, stock_bar_sql = _snapshot_queries()
        with translating():
            contracts = list((await self.session.execute(text(_CONTRACTS_SQL), params)).scalars())
            ids = {"market_data_ticks": contracts, "option_bars": contracts}
            ids |= {"stock_data_ticks": [underlying.id], "stock_bars": [underlying.id]}
            chosen = await choose_source(
                self.session,
                tables=list(ids),
                ids=ids,
                start=min(params["oldest"], params["oldest_bar"]) + _MICROSECOND,
                end=as_of + _MICROSECOND,
                source=source,
            )
            params["source"] = chosen.id if chosen is not None else _NO_SOURCE
            rows = (await self.session.execute(text(tick_sql), params)).all()
            quotes = [ContractQuote(*r)._replace(basis="ticks" if r[8] else None) for r in rows]
            missing = [q.contract_id for q in quotes if q.time is None]
            if missing:
                found = await self.session.execute(
                    text(bar_sql), {**params, "contract_ids": missing}
                )
                quotes = merge_bar_quotes(quotes, found.all())
            stock, basis = await self._underlying(params, stock_sql, stock_bar_sql)
        if not include_unquoted:
            quotes = [q for q in quotes if q.time is not None]
        return ChainSnapshot(
            symbol=symbol,
            underlying_id=underlying.id,
            as_of=as_of,
            underlying=stock,
            quotes=quotes,
            underlying_basis=basis,
        )

    async def _underlying(
        self, params: dict[str, Any], tick_sql: str, bar_sql: str
    ) -> tuple[StockTick | None, str | None]:
        row = (await self.session.execute(text(tick_sql), params)).first()
        if row is not None:
            return StockTick(*row), "ticks"
        row = (await self.session.execute(text(bar_sql), params)).first()
        if row is not None:
            return StockTick(*row[:10]), "bars"
        return None, None


def snapshot_params(
    underlying_id: int, as_of: datetime, expiry: date | None, max_age: timedelta | None
) -> dict[str, Any]:
    """The parameters of the snapshot queries for an aware ``as_of``."""
    return {
        "underlying_id": underlying_id,
        "as_of": as_of,
        "oldest": as_of - max_age if max_age is not None else _EPOCH,
        "oldest_bar": as_of - (max_age or timedelta(days=snapshot_sql.BAR_LOOKBACK_DAYS)),
        "expiry": expiry,
        "trade_date": _new_york_date(as_of),
    }


def merge_bar_quotes(quotes: list[ContractQuote], bars: Sequence[Any]) -> list[ContractQuote]:
    """``quotes`` with the unquoted ones filled from their history-bar rows
    (``contract_id, time, bid, ask, midpoint, volume, what_to_show, bar_size``)."""
    by_id = {row[0]: row for row in bars}
    out = []
    for q in quotes:
        bar = by_id.get(q.contract_id) if q.time is None else None
        if bar is None:
            out.append(q)
            continue
        _, at, bid, ask, mid, volume, what, size = bar
        out.append(
            q._replace(
                time=at,
                bid_price=bid,
                ask_price=ask,
                volume=int(volume) if volume is not None else None,
                basis="bars",
                what_to_show=what,
                bar_size=size,
                midpoint=mid,
            )
        )
    return out


def _new_york_date(at: datetime) -> date:
    from zoneinfo import ZoneInfo

    return at.astimezone(ZoneInfo("America/New_York")).date()
