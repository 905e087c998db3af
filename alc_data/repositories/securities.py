"""Underlying securities (stocks, ETFs, indexes)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert

from alc_data.db.models import UnderlyingSecurity
from alc_data.db.translate import translating
from alc_data.repositories.base import Repository


class SecurityRepository(Repository[UnderlyingSecurity]):
    """``underlying_securities``: look-ups by symbol or IB conId, and upserts."""

    model_type = UnderlyingSecurity

    async def by_symbol(self, symbol: str, *, sec_type: str = "STK") -> UnderlyingSecurity | None:
        """The security ``symbol`` of ``sec_type`` (``STK`` or ``IND``), or None."""
        stmt = select(UnderlyingSecurity).where(
            UnderlyingSecurity.symbol == symbol, UnderlyingSecurity.sec_type == sec_type
        )
        with translating():
            return (await self.session.scalars(stmt)).one_or_none()

    async def by_con_id(self, ib_con_id: int) -> UnderlyingSecurity | None:
        """The security with IB conId ``ib_con_id``, or None."""
        stmt = select(UnderlyingSecurity).where(UnderlyingSecurity.ib_con_id == ib_con_id)
        with translating():
            return (await self.session.scalars(stmt)).one_or_none()

    async def upsert(
        self,
        symbol: str,
        *,
        sec_type: str = "STK",
        exchange: str = "SMART",
        primary_exchange: str | None = None,
        currency: str = "USD",
        ib_con_id: int | None = None,
        name: str | None = None,
        sector: str | None = None,
        industry: str | None = None,
        market_cap: float | None = None,
        active: bool = True,
    ) -> UnderlyingSecurity:
        """Insert the security or update it in place (keyed by symbol and sec_type).

        Fields passed as None keep their stored value.
        """
        values: dict[str, Any] = {
            "symbol": symbol,
            "sec_type": sec_type,
            "exchange": exchange,
            "primary_exchange": primary_exchange,
            "currency": currency,
            "ib_con_id": ib_con_id,
            "name": name,
            "sector": sector,
            "industry": industry,
            "market_cap": market_cap,
            "active": active,
        }
        stmt = insert(UnderlyingSecurity).values(**values)
        table = UnderlyingSecurity.__table__.c
        changes: dict[str, Any] = {
            key: func.coalesce(stmt.excluded[key], table[key])
            for key in values
            if key not in ("symbol", "sec_type")
        }
        changes["updated_at"] = func.now()
        upsert = stmt.on_conflict_do_update(index_elements=["symbol", "sec_type"], set_=changes)
        with translating():
            result = await self.session.scalars(
                upsert.returning(UnderlyingSecurity),
                execution_options={"populate_existing": True},
            )
            return result.one()

    async def active(self) -> list[UnderlyingSecurity]:
        """Every active security, by symbol."""
        return await self.list(
            UnderlyingSecurity.active.is_(True), order_by=[UnderlyingSecurity.symbol]
        )

    async def deactivate(self, symbol: str, *, sec_type: str = "STK") -> bool:
        """Mark the security inactive (it is kept); returns False if it does not exist."""
        stmt = (
            update(UnderlyingSecurity)
            .where(UnderlyingSecurity.symbol == symbol, UnderlyingSecurity.sec_type == sec_type)
            .values(active=False, updated_at=func.now())
        )
        with translating():
            result = await self.session.execute(stmt)
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def require(self, symbol: str, *, sec_type: str | None = None) -> UnderlyingSecurity:
        """The security ``symbol`` (STK first, then IND when ``sec_type`` is None).

        Raises:
            UnknownReferenceError: no such security.
        """
        from alc_data.errors import UnknownReferenceError

        for kind in (sec_type,) if sec_type else ("STK", "IND"):
            found = await self.by_symbol(symbol, sec_type=kind)
            if found is not None:
                return found
        raise UnknownReferenceError(f"unknown underlying {symbol!r}")
