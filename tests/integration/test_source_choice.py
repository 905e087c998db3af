"""Reads choose one source: the one present for what is asked, else ALC_DEFAULT_SOURCE, else
AmbiguousSourceError listing the sources found; never a silent mix."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.engine import URL

from alc_data import Database, DataValidator, OptionTick, Repositories, TickWriter
from alc_data.cli import main
from alc_data.config import default_settings
from alc_data.db import migrate
from alc_data.db.sources import SourceSpec, register_source
from alc_data.errors import AmbiguousSourceError, InvalidRowError, SchemaError, UnknownSourceError
from alc_data.repositories.source_choice import choose_source

T0 = datetime(2024, 3, 12, 14, 30, tzinfo=UTC)


@pytest.fixture
async def db(migrated_url: URL, clean_db: object) -> AsyncIterator[Database]:
    async with Database.from_url(migrated_url) as database:
        yield database


async def _two_sources(db: Database) -> tuple[int, dict[str, int]]:
    async with db.session() as session:
        repos = Repositories(session)
        spy = await repos.securities.upsert("SPY")
        contract = await repos.chains.upsert(
            spy.id, expiration_date=T0.date() + timedelta(days=3), strike_price=500,
            option_type="C", trading_class="SPY",
        )  # fmt: skip
        await session.commit()
    ids = {}
    for name, kind, bid in (("ib-paper", "broker", 1.0), ("vendor-x", "vendor", 2.0)):
        sid = await register_source(db.engine, SourceSpec(name, kind))
        ids[name] = sid
        async with TickWriter(db, source_id=sid) as writer:
            for i in range(3):
                await writer.put(OptionTick(contract.id, T0 + timedelta(minutes=i), bid, bid + 0.1))
    return contract.id, ids


async def test_every_tick_read_refuses_a_mix(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ALC_DEFAULT_SOURCE", raising=False)
    cid, ids = await _two_sources(db)
    end = T0 + timedelta(hours=1)
    async with db.session() as session:
        repos = Repositories(session)
        with pytest.raises(AmbiguousSourceError, match="ib-paper, vendor-x") as caught:
            await repos.ticks.ticks(cid, start=T0, end=end)
        assert caught.value.sources == ["ib-paper", "vendor-x"]
        with pytest.raises(AmbiguousSourceError):
            await repos.ticks.latest(cid, as_of=end)
        with pytest.raises(AmbiguousSourceError):
            await repos.bars.bars(cid, interval="1 min", start=T0, end=end)
        with pytest.raises(AmbiguousSourceError):
            await repos.chains.chain_snapshot("SPY", as_of=end)
        snap = await repos.chains.chain_snapshot("SPY", as_of=end, source="ib-paper")
        assert [q.bid_price for q in snap.quotes] == [1.0]
        # Chosen by name or id: one source's rows only.
        paper = await repos.ticks.ticks(cid, start=T0, end=end, source="ib-paper")
        assert [t.bid_price for t in paper] == [1.0, 1.0, 1.0]
        vendor = await repos.ticks.ticks(cid, start=T0, end=end, source=ids["vendor-x"])
        assert [t.bid_price for t in vendor] == [2.0, 2.0, 2.0]
        bars = await repos.bars.bars(cid, interval="1 min", start=T0, end=end, source="vendor-x")
        assert [b.bid for b in bars] == [2.0, 2.0, 2.0] and {b.basis for b in bars} == {"ticks"}
        # A window where only one source has rows needs no choice.
        await session.execute(
            text("DELETE FROM market_data_ticks WHERE source_id = :s AND time > :t"),
            {"s": ids["vendor-x"], "t": T0},
        )
        later = await repos.ticks.ticks(cid, start=T0 + timedelta(seconds=1), end=end)
        assert [t.bid_price for t in later] == [1.0, 1.0]
        with pytest.raises(UnknownSourceError, match="known sources: legacy"):
            await repos.ticks.ticks(cid, start=T0, end=end, source="nope")

    # The default comes with the Database's Settings (ALC_DEFAULT_SOURCE), never read by the read.
    configured = default_settings(ALC_DEFAULT_SOURCE="vendor-x")
    async with (
        Database.from_url(db.engine.url, settings=configured) as defaulted,
        defaulted.session() as session,
    ):
        repos = Repositories(session)
        chosen = await repos.ticks.ticks(cid, start=T0, end=end)
        assert [t.bid_price for t in chosen] == [2.0]
        picked = await choose_source(
            session, tables=["market_data_ticks"], ids=[cid], start=T0, end=end
        )
        assert picked is not None and picked.name == "vendor-x"


async def test_old_basis_spelling_still_works_with_a_warning(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    cid, _ = await _two_sources(db)
    # The default comes with the Database's Settings (ALC_DEFAULT_SOURCE), never read by the read.
    configured = default_settings(ALC_DEFAULT_SOURCE="ib-paper")
    async with (
        Database.from_url(db.engine.url, settings=configured) as defaulted,
        defaulted.session() as session,
    ):
        repos = Repositories(session)
        with pytest.warns(DeprecationWarning, match="basis"):
            bars = await repos.bars.bars(
                cid, interval="1 min", start=T0, end=T0 + timedelta(hours=1), source="ticks"
            )
    assert [b.bid for b in bars] == [1.0, 1.0, 1.0]
    with pytest.warns(DeprecationWarning, match="basis"):
        assert bars[0].source == "ticks"


async def test_validator_refuses_a_mix_and_checks_the_chosen_source(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ALC_DEFAULT_SOURCE", raising=False)
    await _two_sources(db)
    validator = DataValidator(db)
    now = T0 + timedelta(hours=1)
    with pytest.raises(AmbiguousSourceError, match="ib-paper, vendor-x"):
        await validator.run_quality_check(hours_back=2, now=now)
    report = await validator.run_quality_check(hours_back=2, now=now, source="vendor-x")
    assert report["source"] == "vendor-x" and report["total_records"] == 3


async def test_stats_and_status_show_rows_per_source(
    db: Database,
    migrated_url: URL,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    await _two_sources(db)
    monkeypatch.setenv("ALC_DATABASE_URL", migrated_url.render_as_string(hide_password=False))
    for argv in (["stats", "--json"], ["db", "status", "--json"]):
        assert await asyncio.to_thread(main, argv) == 0
        out = json.loads(capsys.readouterr().out)
        rows = {s["name"]: s["rows"] for s in out["sources"]}
        assert rows["ib-paper"] == {"market_data_ticks": 3}
        assert rows["vendor-x"] == {"market_data_ticks": 3}
        assert rows["legacy"] == {}
    assert await asyncio.to_thread(main, ["stats"]) == 0
    text_out = capsys.readouterr().out
    assert "ib-paper" in text_out and "vendor-x" in text_out
    monkeypatch.delenv("ALC_DEFAULT_SOURCE", raising=False)
    report = ["report", "--json", "--hours", "50000"]
    assert await asyncio.to_thread(main, report) == 1  # the report too refuses a mix
    assert "ib-paper, vendor-x" in capsys.readouterr().err
    assert await asyncio.to_thread(main, [*report, "--source", "ib-paper"]) == 0
    assert json.loads(capsys.readouterr().out)["source"] == "ib-paper"
    validate = ["validate", "--hours", "50000", "--json"]
    assert await asyncio.to_thread(main, validate) == 1
    assert "ib-paper, vendor-x" in capsys.readouterr().err


async def test_opportunities_record_their_source(db: Database) -> None:
    sid = await register_source(db.engine, SourceSpec("ib-paper", "broker"))
    async with db.session() as session:
        repos = Repositories(session)
        spy = await repos.securities.upsert("SPY")
        found = await repos.opportunities.log("SFR", underlying_id=spy.id, source_id=sid)
        plain = await repos.opportunities.log("BOX", underlying_id=spy.id)
        assert (found.source_id, plain.source_id) == (sid, 2)  # 2: unspecified
        mine = await repos.opportunities.opportunities(source_id=sid)
        assert [o.strategy_type for o in mine] == ["SFR"]


async def test_small_inserts_record_the_source_given(db: Database) -> None:
    sid = await register_source(db.engine, SourceSpec("my-import", "user"))
    async with db.session() as session:
        repos = Repositories(session)
        spy = await repos.securities.upsert("SPY")
        contract = await repos.chains.upsert(
            spy.id, expiration_date=T0.date() + timedelta(days=3), strike_price=500,
            option_type="C", trading_class="SPY",
        )  # fmt: skip
        assert await repos.ticks.add_many([OptionTick(contract.id, T0, 1.0, 1.1)], source_id=sid)
        assert await repos.ticks.add_many([OptionTick(contract.id, T0, 3.0, 3.1)])  # unspecified
        mine = await repos.ticks.ticks(contract.id, start=T0, end=T0 + timedelta(1), source=sid)
        other = await repos.ticks.ticks(
            contract.id, start=T0, end=T0 + timedelta(1), source="unspecified"
        )
    assert [t.bid_price for t in mine] == [1.0] and [t.bid_price for t in other] == [3.0]


async def test_writers_with_and_without_a_source_share_connections(
    migrated_url: URL, clean_db: object
) -> None:
    """The staging tables of the idempotent path differ (a source column or not): writers of
    both kinds on one pooled connection each find their own."""
    async with Database.from_url(migrated_url, pool_size=1, max_overflow=0) as db:
        async with db.session() as session:
            repos = Repositories(session)
            spy = await repos.securities.upsert("SPY")
            contract = await repos.chains.upsert(
                spy.id, expiration_date=T0.date() + timedelta(days=3), strike_price=500,
                option_type="C", trading_class="SPY",
            )  # fmt: skip
            await session.commit()
        sid = await register_source(db.engine, SourceSpec("vendor-y", "vendor"))
        for source_id in (None, sid, None):
            async with TickWriter(db, idempotent=True, source_id=source_id) as writer:
                await writer.put(OptionTick(contract.id, T0, 1.0, 1.1))
            assert writer.counts.last_error is None and writer.counts.rejected == 0
        async with db.engine.connect() as conn:
            by_source: dict[int, int] = dict(
                (await conn.execute(
                    text("SELECT source_id, count(*) FROM market_data_ticks GROUP BY 1")
                )).all()
            )  # fmt: skip
    assert by_source == {2: 1, sid: 1}


async def test_registering_a_source_fails_typed(
    db: Database, database_factory: Callable[[], URL]
) -> None:
    await register_source(db.engine, SourceSpec("vendor-z", "vendor"))
    with pytest.raises(InvalidRowError, match="is a vendor source"):
        await register_source(db.engine, SourceSpec("vendor-z", "broker"))
    old = database_factory()
    migrate.upgrade(old, "0004", backend="postgres")
    async with Database.from_url(old) as at_0004:
        with pytest.raises(SchemaError):
            await register_source(at_0004.engine, SourceSpec("vendor-z", "vendor"))
