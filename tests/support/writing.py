"""Helpers of the writer tests: seeded contracts, row counts, a proxy that restarts on its port."""

from __future__ import annotations

from datetime import UTC, date, datetime

from alc_data import Database, Repositories
from tests.support.db_proxy import DbProxy

#: The instant the writer tests' rows start at.
T0 = datetime(2024, 3, 11, 14, 30, tzinfo=UTC)


async def seed_contracts(db: Database, n: int = 3) -> tuple[int, list[int]]:
    """SPY and ``n`` June calls; returns (underlying id, contract ids)."""
    async with db.session() as session:
        repos = Repositories(session)
        spy = await repos.securities.upsert("SPY")
        ids = [
            (
                await repos.chains.upsert(
                    spy.id,
                    expiration_date=date(2024, 6, 21),
                    strike_price=400 + i,
                    option_type="C",
                    trading_class="SPY",
                )
            ).id
            for i in range(n)
        ]
    return spy.id, ids


async def count(db: Database, table: str) -> int:
    """Rows in ``table``."""
    async with db.raw() as conn:
        return int(await conn.fetchval(f"SELECT count(*) FROM {table}"))


class RestartableProxy(DbProxy):
    """The shared proxy, started on a given port (the same one again after a sever)."""

    async def start(self, port: int = 0) -> int:  # type: ignore[override]
        self.port = port or self.port
        await super().start()
        return self.port
