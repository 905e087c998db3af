"""Market events, data-quality metrics and backtest runs."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, or_, update

from alc_data.db.models import BacktestRun, DataQualityMetric, MarketEvent
from alc_data.db.translate import translating
from alc_data.repositories.base import Repository, aware


class MarketEventRepository(Repository[MarketEvent]):
    """``market_events``: holidays, early closes, halts, circuit breakers."""

    model_type = MarketEvent

    async def record(
        self,
        event_type: str,
        *,
        event_date: date,
        underlying_id: int | None = None,
        start_time: datetime | None = None,
        end_time: datetime | None = None,
        description: str | None = None,
    ) -> MarketEvent:
        """Store an event (``underlying_id`` None = market-wide) and flush."""
        return await self.add(
            MarketEvent(
                event_type=event_type,
                event_date=event_date,
                underlying_id=underlying_id,
                start_time=aware(start_time, "start_time") if start_time else None,
                end_time=aware(end_time, "end_time") if end_time else None,
                description=description,
            )
        )

    async def between(
        self,
        start: date,
        end: date,
        *,
        event_type: str | None = None,
        underlying_id: int | None = None,
    ) -> list[MarketEvent]:
        """Events dated in ``[start, end]``; with ``underlying_id``, its events and the
        market-wide ones."""
        where: list[ColumnElement[bool]] = [
            MarketEvent.event_date >= start,
            MarketEvent.event_date <= end,
        ]
        if event_type is not None:
            where.append(MarketEvent.event_type == event_type)
        if underlying_id is not None:
            where.append(
                or_(MarketEvent.underlying_id == underlying_id, MarketEvent.underlying_id.is_(None))
            )
        return await self.list(*where, order_by=[MarketEvent.event_date, MarketEvent.id])


class DataQualityRepository(Repository[DataQualityMetric]):
    """``data_quality_metrics``: the findings and summaries of quality runs."""

    model_type = DataQualityMetric

    async def record(
        self,
        metric_type: str,
        *,
        run_id: uuid.UUID,
        metric_value: float | None = None,
        threshold_value: float | None = None,
        passed: bool | None = None,
        severity: str = "info",
        rule: str | None = None,
        underlying_id: int | None = None,
        contract_id: int | None = None,
        details: dict[str, Any] | None = None,
        check_timestamp: datetime | None = None,
    ) -> DataQualityMetric:
        """Store one metric and flush."""
        metric = DataQualityMetric(
            metric_type=metric_type,
            run_id=run_id,
            metric_value=metric_value,
            threshold_value=threshold_value,
            passed=passed,
            severity=severity,
            rule=rule,
            underlying_id=underlying_id,
            contract_id=contract_id,
            details=details,
        )
        if check_timestamp is not None:
            metric.check_timestamp = aware(check_timestamp, "check_timestamp")
        return await self.add(metric)

    async def record_many(self, metrics: Sequence[DataQualityMetric]) -> list[DataQualityMetric]:
        """Store many metrics in one flush."""
        return await self.add_many(metrics)

    async def for_run(self, run_id: uuid.UUID) -> list[DataQualityMetric]:
        """Every metric of one run."""
        return await self.list(DataQualityMetric.run_id == run_id, order_by=[DataQualityMetric.id])

    async def since(
        self, start: datetime, *, severity: str | None = None, metric_type: str | None = None
    ) -> list[DataQualityMetric]:
        """Metrics checked at or after ``start``, newest first."""
        where: list[ColumnElement[bool]] = [
            DataQualityMetric.check_timestamp >= aware(start, "start")
        ]
        if severity is not None:
            where.append(DataQualityMetric.severity == severity)
        if metric_type is not None:
            where.append(DataQualityMetric.metric_type == metric_type)
        order = [DataQualityMetric.check_timestamp.desc(), DataQualityMetric.id.desc()]
        return await self.list(*where, order_by=order)


class BacktestRunRepository(Repository[BacktestRun]):
    """``backtest_runs``: start a run, then complete or fail it."""

    model_type = BacktestRun

    async def start(
        self,
        strategy_type: str,
        *,
        start_date: date,
        end_date: date,
        symbols: Sequence[str],
        parameters: dict[str, Any] | None = None,
    ) -> BacktestRun:
        """Record a new run in state RUNNING and flush (its ``run_id`` is assigned)."""
        return await self.add(
            BacktestRun(
                strategy_type=strategy_type,
                start_date=start_date,
                end_date=end_date,
                symbols=list(symbols),
                parameters=parameters,
                status="RUNNING",
            )
        )

    async def complete(
        self,
        run_id: uuid.UUID,
        *,
        total_trades: int,
        winning_trades: int,
        losing_trades: int,
        total_profit: float,
        max_drawdown: float | None = None,
        sharpe_ratio: float | None = None,
        win_rate: float | None = None,
        execution_time_seconds: float | None = None,
    ) -> bool:
        """Store a run's results and mark it COMPLETED; False if the run does not exist."""
        return await self._finish(
            run_id,
            status="COMPLETED",
            total_trades=total_trades,
            winning_trades=winning_trades,
            losing_trades=losing_trades,
            total_profit=total_profit,
            max_drawdown=max_drawdown,
            sharpe_ratio=sharpe_ratio,
            win_rate=win_rate,
            execution_time_seconds=execution_time_seconds,
        )

    async def fail(self, run_id: uuid.UUID, *, error_message: str) -> bool:
        """Mark a run FAILED with its error; False if the run does not exist."""
        return await self._finish(run_id, status="FAILED", error_message=error_message)

    async def _finish(self, run_id: uuid.UUID, **values: Any) -> bool:
        from sqlalchemy import func

        stmt = (
            update(BacktestRun)
            .where(BacktestRun.run_id == run_id)
            .values(**values, completed_at=func.now())
            .execution_options(synchronize_session="fetch")
        )
        with translating():
            result = await self.session.execute(stmt)
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def recent(
        self, *, strategy_type: str | None = None, status: str | None = None, limit: int = 50
    ) -> list[BacktestRun]:
        """The latest runs, newest first."""
        where: list[ColumnElement[bool]] = []
        if strategy_type is not None:
            where.append(BacktestRun.strategy_type == strategy_type)
        if status is not None:
            where.append(BacktestRun.status == status)
        return await self.list(*where, order_by=[BacktestRun.created_at.desc()], limit=limit)
