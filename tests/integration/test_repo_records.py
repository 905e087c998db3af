"""Opportunities, market events, data-quality metrics and backtest runs."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy.engine import URL

from alc_data import Database, Repositories
from alc_data.errors import (
    CheckViolationError,
    DataError,
    NaiveDatetimeError,
    UnknownReferenceError,
)

T0 = datetime(2024, 3, 12, 15, 0, 0, 123456, tzinfo=UTC)


@pytest.fixture
async def db(migrated_url: URL, clean_db: object) -> AsyncIterator[Database]:
    async with Database.from_url(migrated_url) as database:
        yield database


async def test_opportunity_log_round_trips_every_field(db: Database) -> None:
    async with db.session() as session:
        repos = Repositories(session)
        spy = await repos.securities.upsert("SPY")
        ids = [
            (
                await repos.chains.upsert(
                    spy.id, expiration_date=e, strike_price=s, option_type=r, trading_class="SPY"
                )
            ).id
            for e, s, r in (
                (date(2024, 3, 15), 500, "C"),
                (date(2024, 3, 15), 500, "P"),
                (date(2024, 4, 19), 500, "C"),
                (date(2024, 4, 19), 500, "P"),
            )
        ]
        fields = {
            "underlying_id": spy.id,
            "timestamp": T0,
            "expiration_date": date(2024, 3, 15),
            "call_strike": Decimal("500.5"),
            "put_strike": Decimal("499.25"),
            "call_contract_id": ids[0],
            "put_contract_id": ids[1],
            "near_expiry": date(2024, 3, 15),
            "far_expiry": date(2024, 4, 19),
            "second_call_contract_id": ids[2],
            "second_put_contract_id": ids[3],
            "stock_price": 501.23,
            "call_bid": 3.1,
            "call_ask": 3.2,
            "put_bid": 2.1,
            "put_ask": 2.2,
            "theoretical_profit": 12.5,
            "max_profit": 20.0,
            "min_profit": -1.5,
            "roi_percent": 0.75,
            "net_credit": 101.0,
            "cost_basis": 50010.0,
            "confidence_score": 0.9,
            "execution_window_ms": 250,
            "slippage_risk": "LOW",
            "discovered_by": "sfr-scanner-1",
            "execution_attempted": True,
            "execution_successful": False,
            "actual_profit": -0.5,
            "details": {"legs": 3, "note": "ok", "nested": [1, 2]},
        }
        logged = await repos.opportunities.log("SFR", **fields)  # type: ignore[arg-type]
        await repos.opportunities.log("BOX", underlying_id=spy.id, roi_percent=0.1)
        await repos.opportunities.log(
            "SFR", underlying_id=spy.id, timestamp=T0 - timedelta(days=1), roi_percent=2.0
        )
        opp_id = logged.id
    async with db.session() as session:
        repos = Repositories(session)
        stored = await repos.opportunities.get(opp_id)
        assert stored is not None
        for name, value in fields.items():
            assert getattr(stored, name) == value, name
        assert stored.strategy_type == "SFR" and stored.created_at.tzinfo is not None
        sfr = await repos.opportunities.opportunities(strategy_type="SFR")
        assert [o.id for o in sfr] == [opp_id, opp_id + 2]  # newest first
        window = await repos.opportunities.opportunities(
            start=T0 - timedelta(hours=1), end=T0 + timedelta(hours=1)
        )
        assert [o.id for o in window] == [opp_id]
        rich = await repos.opportunities.opportunities(min_roi_percent=0.5, executed=False)
        assert [o.id for o in rich] == [opp_id + 2]
        assert len(await repos.opportunities.opportunities(underlying_id=spy.id, limit=2)) == 2
        assert len(await repos.opportunities.opportunities(min_confidence=0.5)) == 1
        assert await repos.opportunities.record_execution(opp_id + 1, successful=True)
        box = await repos.opportunities.opportunities(strategy_type="BOX", executed=True)
        assert box[0].execution_successful is True


async def test_opportunity_errors_are_typed(db: Database) -> None:
    async with db.sessions() as session:
        repos = Repositories(session)
        with pytest.raises(UnknownReferenceError):
            await repos.opportunities.log("SFR", underlying_id=999)
        await session.rollback()
        spy = await repos.securities.upsert("SPY")
        with pytest.raises(CheckViolationError) as check:
            await repos.opportunities.log("SFR", underlying_id=spy.id, confidence_score=1.5)
        assert check.value.constraint is not None
        await session.rollback()
        spy = await repos.securities.upsert("SPY")
        with pytest.raises(NaiveDatetimeError):
            await repos.opportunities.log(
                "SFR", underlying_id=spy.id, timestamp=datetime(2024, 1, 1, 12)
            )


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("call_strike", "abc"),
        ("call_strike", Decimal("sNaN")),
        ("put_strike", float("nan")),
        ("call_strike", -5),
        ("put_strike", float("inf")),
        ("stock_price", float("nan")),
        ("roi_percent", float("inf")),
        ("net_credit", Decimal("sNaN")),
        ("call_bid", "1.0"),
        ("execution_window_ms", 1.5),
        ("call_contract_id", True),
    ],
)
async def test_bad_opportunity_values_are_typed_and_the_session_goes_on(
    db: Database, field: str, value: Any
) -> None:
    async with db.session() as session:
        repos = Repositories(session)
        spy = await repos.securities.upsert("SPY")
        kept = await repos.opportunities.log("SFR", underlying_id=spy.id, roi_percent=1.0)
        with pytest.raises(DataError, match=field):
            bad: dict[str, Any] = {field: value}  # deliberately ill-typed values
            await repos.opportunities.log("SFR", underlying_id=spy.id, **bad)
        # The session is intact: what was accepted before stays, and more can be logged.
        after = await repos.opportunities.log("BOX", underlying_id=spy.id, call_strike=450.5)
    async with db.session() as session:
        stored = await Repositories(session).opportunities.opportunities()
    assert {o.id for o in stored} == {kept.id, after.id}
    assert next(o for o in stored if o.id == after.id).call_strike == Decimal("450.5")


async def test_market_events(db: Database) -> None:
    async with db.session() as session:
        repos = Repositories(session)
        spy = await repos.securities.upsert("SPY")
        qqq = await repos.securities.upsert("QQQ")
        await repos.market_events.record(
            "HOLIDAY", event_date=date(2024, 3, 29), description="Good Friday"
        )
        halt = await repos.market_events.record(
            "HALT",
            event_date=date(2024, 3, 12),
            underlying_id=spy.id,
            start_time=T0,
            end_time=T0 + timedelta(minutes=5),
        )
        await repos.market_events.record("HALT", event_date=date(2024, 3, 13), underlying_id=qqq.id)
        spy_events = await repos.market_events.between(
            date(2024, 3, 1), date(2024, 3, 31), underlying_id=spy.id
        )
        halts = await repos.market_events.between(
            date(2024, 3, 1), date(2024, 3, 31), event_type="HALT"
        )
    assert [e.event_type for e in spy_events] == ["HALT", "HOLIDAY"]
    assert halt.start_time == T0 and halt.end_time == T0 + timedelta(minutes=5)
    assert len(halts) == 2


async def test_data_quality_metrics(db: Database) -> None:
    run = uuid.uuid4()
    async with db.session() as session:
        repos = Repositories(session)
        await repos.quality.record(
            "price_data_coverage", run_id=run, metric_value=98.5, threshold_value=95, passed=True
        )
        await repos.quality.record(
            "crossed_quote",
            run_id=run,
            severity="invalid",
            rule="bid_ask_order",
            passed=False,
            details={"contract": 1},
            check_timestamp=T0,
        )
        got = await repos.quality.for_run(run)
        invalid = await repos.quality.since(T0 - timedelta(minutes=1), severity="invalid")
        recent = await repos.quality.since(
            T0 + timedelta(days=1), metric_type="price_data_coverage"
        )
    assert [m.metric_type for m in got] == ["price_data_coverage", "crossed_quote"]
    assert [m.rule for m in invalid] == ["bid_ask_order"]
    assert invalid[0].check_timestamp == T0
    assert len(recent) == 1  # stamped now by the database


async def test_backtest_runs(db: Database) -> None:
    async with db.session() as session:
        repos = Repositories(session)
        run = await repos.backtests.start(
            "SFR",
            start_date=date(2024, 1, 1),
            end_date=date(2024, 3, 1),
            symbols=["SPY", "QQQ"],
            parameters={"min_roi": 0.5},
        )
        failed = await repos.backtests.start(
            "BOX", start_date=date(2024, 1, 1), end_date=date(2024, 2, 1), symbols=["SPX"]
        )
        assert run.status == "RUNNING" and isinstance(run.run_id, uuid.UUID)
        assert await repos.backtests.complete(
            run.run_id,
            total_trades=10,
            winning_trades=7,
            losing_trades=3,
            total_profit=1234.5,
            sharpe_ratio=1.8,
            win_rate=0.7,
        )
        assert await repos.backtests.fail(failed.run_id, error_message="no data")
        assert not await repos.backtests.fail(uuid.uuid4(), error_message="x")
    async with db.session() as session:
        repos = Repositories(session)
        done = await repos.backtests.get(run.run_id)
        assert done is not None
        assert (done.status, done.total_trades, done.symbols) == ("COMPLETED", 10, ["SPY", "QQQ"])
        assert done.completed_at is not None and done.parameters == {"min_roi": 0.5}
        assert [r.strategy_type for r in await repos.backtests.recent(status="FAILED")] == ["BOX"]
        assert len(await repos.backtests.recent(strategy_type="SFR")) == 1
