"""The Arrow reader never mixes sources: with two sources holding rows and no default, every read
refuses with AmbiguousSourceError; naming one (or configuring a default) reads only its rows."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.engine import URL

from alc_data import Database, OptionTick, Repositories, StockTick, StockTickWriter, TickWriter
from alc_data.config import default_settings
from alc_data.db.sources import SourceSpec, register_source
from alc_data.errors import AmbiguousSourceError
from alc_data.read import ArrowReader

T0 = datetime(2024, 3, 12, 14, 30, tzinfo=UTC)
END = T0 + timedelta(hours=1)


@pytest.fixture
async def two_sources(migrated_url: URL, clean_db: object) -> AsyncIterator[tuple[URL, int]]:
    """SPY and one call, quoted by ib-paper (bid 1.0) and vendor-x (bid 2.0)."""
    async with Database.from_url(migrated_url) as db:
        async with db.session() as session:
            repos = Repositories(session)
            spy = await repos.securities.upsert("SPY")
            contract = await repos.chains.upsert(
                spy.id, expiration_date=T0.date() + timedelta(days=3), strike_price=500,
                option_type="C", trading_class="SPY",
            )  # fmt: skip
            await session.commit()
        for name, kind, bid in (("ib-paper", "broker", 1.0), ("vendor-x", "vendor", 2.0)):
            sid = await register_source(db.engine, SourceSpec(name, kind))
            async with TickWriter(db, source_id=sid) as ticks:
                for i in range(3):
                    at = T0 + timedelta(minutes=i)
                    await ticks.put(OptionTick(contract.id, at, bid, bid + 0.1))
            async with StockTickWriter(db, source_id=sid) as stock:
                await stock.put(StockTick(spy.id, T0, 500 + bid))
    yield migrated_url, contract.id


def test_every_read_refuses_a_mix(two_sources: tuple[URL, int]) -> None:
    url, cid = two_sources
    with ArrowReader.connect(url) as reader:
        reads = {
            "ticks": lambda: reader.ticks([cid], start=T0, end=END),
            "stock_ticks": lambda: reader.stock_ticks("SPY", start=T0, end=END),
            "quote_bars": lambda: reader.quote_bars([cid], interval="1 min", start=T0, end=END),
            "chain_snapshot": lambda: reader.chain_snapshot("SPY", as_of=END),
            "replay": lambda: list(reader.replay("SPY", start=T0, end=END)),
        }
        for name, read in reads.items():
            with pytest.raises(AmbiguousSourceError) as refused:
                read()
            assert refused.value.sources == ["ib-paper", "vendor-x"], name

        vendor = reader.ticks([cid], start=T0, end=END, source="vendor-x")
        assert vendor.column("bid_price").to_pylist() == [2.0, 2.0, 2.0]
        snap = reader.chain_snapshot("SPY", as_of=END, source="ib-paper")
        assert snap.quotes.column("bid_price").to_pylist() == [1.0]
        assert snap.underlying.column("price").to_pylist() == [501.0]
        replayed = list(reader.replay("SPY", start=T0, end=END, source="ib-paper"))
        assert [b for batch in replayed for b in batch.column("bid_price").to_pylist()] == [1.0] * 3


def test_a_database_default_source_chooses(two_sources: tuple[URL, int]) -> None:
    url, cid = two_sources
    settings = default_settings(ALC_DEFAULT_SOURCE="vendor-x")
    db = Database.from_url(url, settings=settings)
    with ArrowReader.connect(db) as reader:
        assert reader.default_source == "vendor-x"
        bids = reader.ticks([cid], start=T0, end=END).column("bid_price").to_pylist()
        assert bids == [2.0, 2.0, 2.0]
        quotes = reader.quote_bars([cid], interval="1 min", start=T0, end=END)
        assert set(quotes.column("bid").to_pylist()) == {2.0}
