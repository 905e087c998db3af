"""Executing one planned request: pacing, retries with backoff, and what each day's outcome is.

- pacing violation (162) or timeout: retried after ``backoff * 2**n`` (IB seconds, scaled by the
  pacing time scale), up to ``max_attempts`` tries; then the days are ``failed`` (a later run
  tries them again);
- "HMDS query returned no data" (162) or an answer without bars: the days are ``empty``, never
  retried; within an answer, a day without bars is ``empty`` too;
- error 200 (the contract no longer resolves: it expired): ``unavailable``;
- any other error: ``failed``.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

from alc_data.ib.history import AnswerKind, HistoryAnswer, HistoryBar, HistoryClient
from alc_data.loader.config import LoaderConfig
from alc_data.loader.ledger import PacingLedger
from alc_data.loader.plan import RequestSpec, UnitKey, trading_day_of
from alc_data.loader.scheduler import PacingCounts, PacingScheduler

__all__ = ["DayOutcome", "RequestResult", "execute"]

_RETRY = frozenset({AnswerKind.PACING, AnswerKind.TIMEOUT})
_STATUS = {
    AnswerKind.EMPTY: "empty",
    AnswerKind.UNAVAILABLE: "unavailable",
    AnswerKind.PACING: "failed",
    AnswerKind.TIMEOUT: "failed",
    AnswerKind.ERROR: "failed",
}
MAX_BACKOFF = 600.0


@dataclass(frozen=True)
class DayOutcome:
    """What one trading day of a request ended as (a ``history_requests`` row)."""

    unit: UnitKey
    status: str
    bars: int
    attempts: int
    last_error: str | None


@dataclass
class RequestResult:
    """A request's bars (by trading day) and the outcome of each of its days."""

    spec: RequestSpec
    kind: AnswerKind
    attempts: int
    error: str | None
    bars_by_day: dict[date, list[HistoryBar]] = field(default_factory=dict)

    def outcomes(self) -> list[DayOutcome]:
        """One outcome per day of the request."""
        out = []
        for day in self.spec.days:
            bars = self.bars_by_day.get(day, [])
            if self.kind is AnswerKind.BARS:
                status = "done" if bars else "empty"
            else:
                status = _STATUS[self.kind]
            error = None if status == "done" else self.error
            out.append(DayOutcome(self.spec.unit(day), status, len(bars), self.attempts, error))
        return out

    @property
    def failed(self) -> bool:
        """True when the request ended without an answer IB considers final."""
        return self.kind in _RETRY or self.kind is AnswerKind.ERROR


def split_by_day(spec: RequestSpec, bars: list[HistoryBar]) -> dict[date, list[HistoryBar]]:
    """Bars grouped by their trading day; bars outside the request's days are dropped."""
    wanted = set(spec.days)
    grouped: dict[date, list[HistoryBar]] = defaultdict(list)
    for bar in bars:
        day = trading_day_of(bar.time)
        if day in wanted:
            grouped[day].append(bar)
    return dict(grouped)


async def execute(
    client: HistoryClient,
    scheduler: PacingScheduler,
    spec: RequestSpec,
    config: LoaderConfig,
    counts: PacingCounts | None = None,
    ledger: PacingLedger | None = None,
) -> RequestResult:
    """Send ``spec`` (retrying pacing violations and timeouts) and classify the answer."""
    attempts = 0
    while True:
        attempts += 1
        async with scheduler.slot(spec.pacing_key, counts, ledger):
            answer = await _fetch(client, spec, config)
        if answer.kind not in _RETRY or attempts >= config.max_attempts:
            break
        delay = min(config.backoff * 2 ** (attempts - 1), MAX_BACKOFF)
        await asyncio.sleep(config.pacing.scaled(delay))
    result = RequestResult(spec, answer.kind, attempts, answer.error_text)
    if answer.kind is AnswerKind.BARS:
        result.bars_by_day = split_by_day(spec, answer.bars)
    return result


async def _fetch(client: HistoryClient, spec: RequestSpec, config: LoaderConfig) -> HistoryAnswer:
    return await client.fetch(
        spec.instrument.contract,
        end=spec.end,
        duration=spec.duration,
        bar_size=spec.series.bar_size,
        what_to_show=spec.series.what_to_show,
        use_rth=True,
        timeout=config.request_timeout,
    )
