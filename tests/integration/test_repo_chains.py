"""Securities and option-chain repositories, and error translation at their boundary."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy.engine import URL

from alc_data import Database, OptionChainRepository, Repositories, SecurityRepository
from alc_data.errors import DataError, DuplicateError, UnknownReferenceError


@pytest.fixture
async def db(migrated_url: URL, clean_db: object) -> AsyncIterator[Database]:
    async with Database.from_url(migrated_url) as database:
        yield database


async def test_security_upsert_inserts_then_updates_in_place(db: Database) -> None:
    async with db.session() as session:
        repo = SecurityRepository(session)
        first = await repo.upsert("SPY", name="SPDR S&P 500", ib_con_id=756733)
        again = await repo.upsert("SPY", sector="ETF")  # name/con id passed as None: kept
        assert again.id == first.id
        assert (again.name, again.sector, again.ib_con_id) == ("SPDR S&P 500", "ETF", 756733)
        index = await repo.upsert("SPX", sec_type="IND")
        assert (await repo.by_symbol("SPY")) is not None
        assert (await repo.by_con_id(756733)).id == first.id  # type: ignore[union-attr]
        assert (await repo.require("SPX")).id == index.id
        assert await repo.deactivate("SPX", sec_type="IND")
        assert [s.symbol for s in await repo.active()] == ["SPY"]
        assert await repo.count() == 2
        with pytest.raises(UnknownReferenceError):
            await repo.require("NOPE")


async def test_contract_upsert_by_natural_key_and_by_con_id(db: Database) -> None:
    async with db.session() as session:
        underlying = await SecurityRepository(session).upsert("SPY")
        repo = OptionChainRepository(session)
        spec = {
            "expiration_date": date(2024, 3, 15),
            "strike_price": 450.0,
            "option_type": "C",
            "trading_class": "SPY",
        }
        created = await repo.upsert(underlying.id, **spec, multiplier="100")  # type: ignore[arg-type]
        assert created.multiplier == 100 and isinstance(created.multiplier, int)
        assert created.strike_price == Decimal("450.0000")
        # Same natural key, now with IB's conId: the same row gains the conId.
        named = await repo.upsert(underlying.id, **spec, ib_con_id=111, contract_symbol="X1")  # type: ignore[arg-type]
        assert named.id == created.id and named.ib_con_id == 111
        # Same conId, adjusted terms (after a corporate action): updated in place.
        moved = await repo.upsert(
            underlying.id,
            expiration_date=date(2024, 3, 15),
            strike_price="112.5",
            option_type="C",
            trading_class="SPY1",
            ib_con_id=111,
        )
        assert moved.id == created.id
        assert (moved.strike_price, moved.trading_class, moved.contract_symbol) == (
            Decimal("112.5000"),
            "SPY1",
            "X1",
        )
        assert (await repo.by_con_id(111)).id == created.id  # type: ignore[union-attr]
        with pytest.raises(DataError):
            await repo.upsert(underlying.id, **spec, multiplier="12.5")  # type: ignore[arg-type]


async def test_expired_contracts_are_kept(db: Database) -> None:
    async with db.session() as session:
        repos = Repositories(session)
        spy = await repos.securities.upsert("SPY")
        for expiry in (date(2020, 1, 17), date(2099, 1, 16)):
            await repos.chains.upsert(
                spy.id,
                expiration_date=expiry,
                strike_price=300,
                option_type="P",
                trading_class="SPY",
            )
        assert await repos.chains.deactivate_expired(today=date(2024, 1, 1)) == 1
        everything = await repos.chains.chain("SPY")
        live = await repos.chains.chain("SPY", include_expired=False)
        one = await repos.chains.chain("SPY", expiry=date(2020, 1, 17))
        assert [c.expiration_date for c in everything] == [date(2020, 1, 17), date(2099, 1, 16)]
        assert everything[0].active is False
        assert [c.expiration_date for c in live] == [date(2099, 1, 16)]
        assert len(one) == 1
        assert await repos.chains.expirations("SPY") == [date(2020, 1, 17), date(2099, 1, 16)]


async def test_errors_are_translated_by_sqlstate(db: Database) -> None:
    async with db.sessions() as session:
        repo = OptionChainRepository(session)
        with pytest.raises(UnknownReferenceError) as unknown:
            await repo.upsert(
                424242,
                expiration_date=date(2024, 3, 15),
                strike_price=1,
                option_type="C",
                trading_class="X",
            )
        assert unknown.value.__cause__ is not None  # raise ... from exc
        await session.rollback()
        spy = await SecurityRepository(session).upsert("SPY")
        common = {"expiration_date": date(2024, 3, 15), "option_type": "C", "trading_class": "X"}
        await repo.upsert(spy.id, strike_price=1, contract_symbol="SAME", **common)  # type: ignore[arg-type]
        with pytest.raises(DuplicateError):
            await repo.upsert(spy.id, strike_price=2, contract_symbol="SAME", **common)  # type: ignore[arg-type]
        await session.rollback()
