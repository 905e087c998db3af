"""Corporate actions and read-time split adjustment of underlying prices.

Option contracts keep the terms IB lists; underlying prices are adjusted when read with
``adjusted=True``: a value stamped before an action's ``ex_date`` (New York trading date) is
divided by the product of the factors of every such later action. A split without an explicit
``adjustment_factor`` uses ``split_to / split_from`` (a 4-for-1 split divides earlier prices by 4).
Volumes and sizes are not adjusted.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from alc_data.db.models import CorporateAction
from alc_data.db.translate import translating
from alc_data.repositories.base import Repository

_NEW_YORK = ZoneInfo("America/New_York")
_SPLITS = ("SPLIT", "REVERSE_SPLIT")


def action_factor(action: CorporateAction) -> float | None:
    """The price factor of ``action`` (None when it does not adjust prices)."""
    if action.adjustment_factor is not None:
        return action.adjustment_factor
    if action.action_type in _SPLITS and action.split_from and action.split_to:
        return action.split_to / action.split_from
    return None


class PriceAdjuster:
    """Divides prices stamped before each ex-date by the cumulative factor of later actions."""

    def __init__(self, actions: Sequence[CorporateAction]) -> None:
        pairs = sorted(
            (a.ex_date, f) for a in actions if (f := action_factor(a)) is not None and f != 1.0
        )
        self._dates = [d for d, _ in pairs]
        # _after[i]: product of the factors of actions i.. (those with ex_date >= dates[i]).
        self._after = [1.0] * (len(pairs) + 1)
        for i in range(len(pairs) - 1, -1, -1):
            self._after[i] = self._after[i + 1] * pairs[i][1]

    def __bool__(self) -> bool:
        return bool(self._dates)

    def factor(self, at: datetime) -> float:
        """The divisor for a value stamped at ``at``."""
        day = at.astimezone(_NEW_YORK).date()
        return self._after[bisect_right(self._dates, day)]

    def adjust(self, row: Any, at: datetime, fields: Sequence[str]) -> Any:
        """``row`` (a NamedTuple) with ``fields`` divided by the factor at ``at``."""
        factor = self.factor(at)
        if factor == 1.0:
            return row
        changes = {f: v / factor for f in fields if (v := getattr(row, f)) is not None}
        return row._replace(**changes)


class CorporateActionRepository(Repository[CorporateAction]):
    """``corporate_actions``: recording and listing actions, and the price adjuster."""

    model_type = CorporateAction

    async def record(
        self,
        underlying_id: int,
        *,
        action_type: str,
        ex_date: date,
        record_date: date | None = None,
        payable_date: date | None = None,
        amount: float | None = None,
        split_from: int | None = None,
        split_to: int | None = None,
        adjustment_factor: float | None = None,
        deliverable: dict[str, Any] | None = None,
        description: str | None = None,
    ) -> CorporateAction:
        """Store one corporate action and flush."""
        return await self.add(
            CorporateAction(
                underlying_id=underlying_id,
                action_type=action_type,
                ex_date=ex_date,
                record_date=record_date,
                payable_date=payable_date,
                amount=amount,
                split_from=split_from,
                split_to=split_to,
                adjustment_factor=adjustment_factor,
                deliverable=deliverable,
                description=description,
            )
        )

    async def record_dividend(
        self, underlying_id: int, *, ex_date: date, amount: float, description: str | None = None
    ) -> CorporateAction:
        """Store a cash dividend once per underlying and ex-date (an announced amount that
        changed updates the row) and flush."""
        stmt = select(CorporateAction).where(
            CorporateAction.underlying_id == underlying_id,
            CorporateAction.action_type == "DIVIDEND",
            CorporateAction.ex_date == ex_date,
        )
        with translating():
            existing = (await self.session.scalars(stmt)).first()
            if existing is None:
                return await self.record(
                    underlying_id, action_type="DIVIDEND", ex_date=ex_date, amount=amount,
                    description=description,
                )  # fmt: skip
            if existing.amount is None or float(existing.amount) != amount:
                existing.amount = amount
                await self.session.flush()
            return existing

    async def for_underlying(
        self, underlying_id: int, *, start: date | None = None, end: date | None = None
    ) -> list[CorporateAction]:
        """The actions of one underlying (ex_date in ``[start, end]`` when given), by ex_date."""
        where = [CorporateAction.underlying_id == underlying_id]
        if start is not None:
            where.append(CorporateAction.ex_date >= start)
        if end is not None:
            where.append(CorporateAction.ex_date <= end)
        return await self.list(*where, order_by=[CorporateAction.ex_date, CorporateAction.id])

    async def unprocessed(self) -> list[CorporateAction]:
        """Actions not yet marked processed."""
        return await self.list(
            CorporateAction.processed.is_(False), order_by=[CorporateAction.ex_date]
        )

    async def adjuster(self, underlying_id: int) -> PriceAdjuster:
        """A :class:`PriceAdjuster` over every action of ``underlying_id``."""
        stmt = select(CorporateAction).where(CorporateAction.underlying_id == underlying_id)
        with translating():
            actions = (await self.session.scalars(stmt)).all()
        return PriceAdjuster(actions)
