"""Carrying out the line plan on IB: subscribe / unsubscribe, and per-contract errors.

Per-contract errors (``errorEvent`` with the request's contract):

- 200 (no security definition): the contract is dropped until the next discovery;
- 354 (market data not subscribed), 10089/10090/10168 (subscription needed / partial):
  the contract is asked for again later with a doubling wait (30 s to 10 min);
- 101 (max number of tickers): the line goes back to the queue and the budget shrinks by one.

The other contracts keep streaming in every case.
"""

from __future__ import annotations

import logging
from collections import Counter

from alc_data.collector.lines import LineScheduler
from alc_data.collector.sampling import Sampler
from alc_data.ib.codes import CONTRACT_MARKET_DATA
from alc_data.ib.gateway import MarketDataGateway

__all__ = ["CONTRACT_ERRORS", "Streams"]

log = logging.getLogger(__name__)

CONTRACT_ERRORS = CONTRACT_MARKET_DATA


class Streams:
    """Subscribes and cancels market data as the scheduler plans it."""

    def __init__(
        self,
        ib: MarketDataGateway,
        scheduler: LineScheduler[int],
        sampler: Sampler,
        *,
        option_ticks: str,
        underlying_ticks: str,
    ) -> None:
        self.ib = ib
        self.scheduler = scheduler
        self.sampler = sampler
        self.option_ticks = option_ticks
        self.underlying_ticks = underlying_ticks
        self.errors: Counter[int] = Counter()
        self.last_error: str | None = None

    def apply(self, now: float) -> None:
        """Cancel and subscribe what the scheduler plans now (only while connected)."""
        if not self.ib.is_connected():
            return
        cancel, subscribe = self.scheduler.plan(now)
        for con_id in cancel:
            self._cancel(con_id)
            self.scheduler.cancelled(con_id, now)
        for con_id in subscribe:
            inst = self.sampler.instruments.get(con_id)
            if inst is None:
                self.scheduler.refused(con_id, now, code=200)
                continue
            ticks = self.option_ticks if inst.is_option else self.underlying_ticks
            ticker = self.ib.subscribe(inst.contract, ticks)
            self.scheduler.subscribed(con_id, now)
            self.sampler.attach(con_id, ticker, now)

    def _cancel(self, con_id: int) -> None:
        inst = self.sampler.instruments.get(con_id)
        self.sampler.detach(con_id)
        if inst is not None and self.ib.is_connected():
            self.ib.unsubscribe(inst.contract)

    def on_error(self, code: int, message: str, con_id: int, what: str, now: float) -> None:
        """An IB error for a contract: give its line back and retry or drop it."""
        if code not in CONTRACT_ERRORS or con_id not in self.scheduler.active:
            return
        self.errors[code] += 1
        self.last_error = f"IB error {code} for {what}: {message}"
        log.warning("%s", self.last_error)
        self._cancel(con_id)
        self.scheduler.refused(con_id, now, code=code)

    def lost_all(self, now: float) -> None:
        """The connection (or IB's data) was lost: every line is gone."""
        self.scheduler.disconnected(now)
        self.sampler.detach_all()

    def cancel_all(self, now: float) -> None:
        """Give every line back (stopping)."""
        for con_id in list(self.scheduler.active):
            self._cancel(con_id)
            self.scheduler.cancelled(con_id, now)
