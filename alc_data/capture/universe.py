"""Registering a discovered universe in the database (used by the collector and the loader)."""

from __future__ import annotations

from dataclasses import dataclass, field

from alc_data.db.database import Database
from alc_data.ib.discovery import Universe
from alc_data.repositories import OptionChainRepository, SecurityRepository


@dataclass(frozen=True)
class RegisteredUniverse:
    """A universe with its database ids."""

    universe: Universe
    underlying_id: int
    #: IB conId -> option_chains.id
    contract_ids: dict[int, int] = field(default_factory=dict)


async def register_universe(db: Database, universe: Universe) -> RegisteredUniverse:
    """Upsert the underlying and every contract (by IB conId, then natural key) in one
    transaction; returns their ids."""
    underlying = universe.underlying
    async with db.session() as session:
        security = await SecurityRepository(session).upsert(
            universe.symbol,
            sec_type="IND" if underlying.secType == "IND" else "STK",
            exchange=underlying.exchange or "SMART",
            primary_exchange=underlying.primaryExchange or None,
            currency=underlying.currency or "USD",
            ib_con_id=int(underlying.conId),
        )
        chains = OptionChainRepository(session)
        ids: dict[int, int] = {}
        for c in universe.contracts:
            contract = await chains.upsert(
                security.id,
                expiration_date=c.expiry,
                strike_price=c.strike,
                option_type=c.right,
                trading_class=c.trading_class,
                multiplier=c.multiplier,
                exchange=universe.exchange,
                contract_symbol=c.contract_symbol,
                ib_con_id=c.con_id,
            )
            ids[c.con_id] = contract.id
        return RegisteredUniverse(universe, security.id, ids)
