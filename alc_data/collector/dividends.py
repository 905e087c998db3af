"""Dividends as IB delivers them: generic tick 456 on the underlying becomes a
``corporate_actions`` row (``DIVIDEND``, ex-date and cash amount per share), which the
validator's bound and parity rules read.

The underlyings are subscribed with generic tick 456; every few seconds the recorder looks at
their tickers' ``dividends`` (ib_async's parse of tick type 59) and stores each announced next
dividend that is new or changed. The same dividend announced again is stored once (one row per
underlying and ex-date; a changed amount updates it). A tick that does not parse is counted and
skipped, never stored.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from alc_data.db.database import Database
from alc_data.errors import DataError
from alc_data.ib.dividends import NextDividend, dividend_tick_from_ticker
from alc_data.repositories.corporate_actions import CorporateActionRepository

__all__ = ["DividendRecorder"]

log = logging.getLogger(__name__)


class DividendRecorder:
    """Stores the next dividends IB announces for the collected underlyings."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.stored = 0
        self.errors: dict[str, int] = {}
        self._known: dict[int, NextDividend] = {}

    async def record(self, underlyings: Iterable[tuple[int, Any]]) -> int:
        """Store the new or changed next dividends of ``(underlying_id, ticker)`` pairs;
        returns how many rows were written (a database failure is left to the next call)."""
        fresh: dict[int, NextDividend] = {}
        for underlying_id, ticker in underlyings:
            try:
                tick = dividend_tick_from_ticker(getattr(ticker, "dividends", None))
            except DataError as exc:
                kind = "dividends:unparseable"
                self.errors[kind] = self.errors.get(kind, 0) + 1
                log.warning("ignoring a dividends tick: %s", exc)
                continue
            upcoming = tick.next_dividend() if tick is not None else None
            if upcoming is not None and self._known.get(underlying_id) != upcoming:
                fresh[underlying_id] = upcoming
        if not fresh:
            return 0
        async with self.db.session() as session:
            repo = CorporateActionRepository(session)
            for underlying_id, upcoming in fresh.items():
                await repo.record_dividend(
                    underlying_id, ex_date=upcoming.ex_date, amount=upcoming.amount,
                    description="announced by IB (tick 456)",
                )  # fmt: skip
        self._known.update(fresh)
        self.stored += len(fresh)
        return len(fresh)
