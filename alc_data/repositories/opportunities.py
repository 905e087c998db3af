"""Arbitrage opportunities found by scanners: ``log(...)`` and filtered reads."""

from __future__ import annotations

import math
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import ColumnElement, update

from alc_data.db.models import ArbitrageOpportunity
from alc_data.db.translate import translating
from alc_data.errors import DataError
from alc_data.repositories.base import Repository, aware

_STRIKES = ("call_strike", "put_strike")
_WHOLE = ("underlying_id", "call_contract_id", "put_contract_id", "second_call_contract_id",
          "second_put_contract_id", "execution_window_ms")  # fmt: skip
_NUMBERS = ("stock_price", "call_bid", "call_ask", "put_bid", "put_ask", "theoretical_profit",
            "max_profit", "min_profit", "roi_percent", "net_credit", "cost_basis",
            "confidence_score", "actual_profit")  # fmt: skip


def _check_values(fields: dict[str, Any]) -> None:
    """Strikes become Decimals; every number must be finite (NaN and inf are refused)."""
    for name in _STRIKES:
        value = fields[name]
        if value is None:
            continue
        try:
            strike = Decimal(str(value)) if not isinstance(value, bool) else Decimal("NaN")
        except InvalidOperation:
            strike = Decimal("NaN")
        if not strike.is_finite() or strike <= 0:
            raise DataError(f"{name} must be a positive number, got {value!r}")
        fields[name] = strike
    for name in _WHOLE:
        value = fields[name]
        if value is not None and (type(value) is not int or value < 0):
            raise DataError(f"{name} must be a whole number >= 0, got {value!r}")
    for name in _NUMBERS:
        value = fields[name]
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
            raise DataError(f"{name} must be a number, got {value!r}")
        if not (value.is_finite() if isinstance(value, Decimal) else math.isfinite(value)):
            raise DataError(f"{name} must be a finite number, got {value!r}")


class OpportunityRepository(Repository[ArbitrageOpportunity]):
    """``arbitrage_opportunities``."""

    model_type = ArbitrageOpportunity

    async def log(
        self,
        strategy_type: str,
        *,
        underlying_id: int,
        timestamp: datetime | None = None,
        expiration_date: date | None = None,
        call_strike: Decimal | float | None = None,
        put_strike: Decimal | float | None = None,
        call_contract_id: int | None = None,
        put_contract_id: int | None = None,
        near_expiry: date | None = None,
        far_expiry: date | None = None,
        second_call_contract_id: int | None = None,
        second_put_contract_id: int | None = None,
        stock_price: float | None = None,
        call_bid: float | None = None,
        call_ask: float | None = None,
        put_bid: float | None = None,
        put_ask: float | None = None,
        theoretical_profit: float | None = None,
        max_profit: float | None = None,
        min_profit: float | None = None,
        roi_percent: float | None = None,
        net_credit: float | None = None,
        cost_basis: float | None = None,
        confidence_score: float | None = None,
        execution_window_ms: int | None = None,
        slippage_risk: str | None = None,
        discovered_by: str | None = None,
        execution_attempted: bool = False,
        execution_successful: bool | None = None,
        actual_profit: float | None = None,
        details: dict[str, Any] | None = None,
        source_id: int | None = None,
    ) -> ArbitrageOpportunity:
        """Record an opportunity (``timestamp`` defaults to the database's now) and flush.

        ``source_id``: the ``data_sources`` id of the data it was found in (default: the
        ``unspecified`` source).

        Raises:
            DataError: a price or amount is not a finite number, a strike is not a positive
                number, an id or ``execution_window_ms`` is not a whole number (nothing is
                written).
            UnknownReferenceError: the underlying or a contract does not exist.
            CheckViolationError: e.g. ``confidence_score`` outside 0..1.
        """
        # Every parameter is a column of the same name: build the row from them.
        fields = {k: v for k, v in locals().items() if k != "self"}
        if timestamp is None:
            del fields["timestamp"]
        else:
            fields["timestamp"] = aware(timestamp, "timestamp")
        _check_values(fields)
        if source_id is None:
            del fields["source_id"]
        return await self.add(ArbitrageOpportunity(**fields))

    async def opportunities(
        self,
        *,
        strategy_type: str | None = None,
        underlying_id: int | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
        min_roi_percent: float | None = None,
        min_confidence: float | None = None,
        expiration_date: date | None = None,
        executed: bool | None = None,
        limit: int | None = None,
        source_id: int | None = None,
    ) -> list[ArbitrageOpportunity]:
        """Opportunities matching every filter given (``start <= timestamp < end``; one
        source when ``source_id`` is given), newest first."""
        model = ArbitrageOpportunity
        where: list[ColumnElement[bool]] = []
        if strategy_type is not None:
            where.append(model.strategy_type == strategy_type)
        if underlying_id is not None:
            where.append(model.underlying_id == underlying_id)
        if start is not None:
            where.append(model.timestamp >= aware(start, "start"))
        if end is not None:
            where.append(model.timestamp < aware(end, "end"))
        if min_roi_percent is not None:
            where.append(model.roi_percent >= min_roi_percent)
        if min_confidence is not None:
            where.append(model.confidence_score >= min_confidence)
        if expiration_date is not None:
            where.append(model.expiration_date == expiration_date)
        if executed is not None:
            where.append(model.execution_attempted.is_(executed))
        if source_id is not None:
            where.append(model.source_id == source_id)
        return await self.list(
            *where, order_by=[model.timestamp.desc(), model.id.desc()], limit=limit
        )

    async def record_execution(
        self, opportunity_id: int, *, successful: bool, actual_profit: float | None = None
    ) -> bool:
        """Record that an opportunity was acted on; returns False if it does not exist."""
        stmt = (
            update(ArbitrageOpportunity)
            .where(ArbitrageOpportunity.id == opportunity_id)
            .values(
                execution_attempted=True,
                execution_successful=successful,
                actual_profit=actual_profit,
            )
        )
        with translating():
            result = await self.session.execute(stmt)
        return bool(result.rowcount)  # type: ignore[attr-defined]
