"""The quality run: SQL metrics over the window, the rules over its ticks, persisted findings.

Report keys and their definitions (DESIGN.md section 6), over ticks with ``time`` in
``(now - hours_back, now]`` (and on ``symbol``'s contracts when given):

- ``period_hours``: ``hours_back``;
- ``total_records``: tick rows in the window;
- ``price_data_coverage``: 100 x rows with both bid and ask (non-NULL, non-NaN) / rows;
- ``wide_spread_pct``: 100 x two-sided rows (``0 < bid <= ask < inf``) whose ``ask - bid``
  exceeds ``MAX_SPREAD_PERCENT`` x mid / two-sided rows;
- ``stale_contracts``: active, unexpired contracts with no tick in the last
  ``ALC_STALE_AFTER_SECONDS`` before the window's end, or before the product's last close in
  the window when its session is over (0 when no session falls in the window);
- ``missing_greeks_contracts``: contracts whose latest tick in the window lacks delta,
  gamma, theta or vega (NULL or NaN);
- ``contracts_with_gaps``: contracts with two consecutive ticks in one session more than
  ``ALC_GAP_SECONDS`` apart;
- ``top_gappy_contracts``: up to 10 of those, most gaps first, then the longest gap;
- ``validation_stats``: the rules' verdicts on the window's ticks.

Percentages of zero rows are 0.0.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from alc_data.errors import DataError, NaiveDatetimeError, UnknownSymbolError
from alc_data.repositories import quality_sql as q
from alc_data.repositories.source_choice import SourceSelection, choose_source
from alc_data.validation.persist import persist_run
from alc_data.validation.tally import BatchReport
from alc_data.validation.types import Finding, MarketDataSnapshot, ValidationResult

if TYPE_CHECKING:
    from alc_data.validation.validator import DataValidator

__all__ = ["REPORT_KEYS", "QualityRun", "run_quality"]

REPORT_KEYS = (
    "period_hours",
    "total_records",
    "price_data_coverage",
    "wide_spread_pct",
    "stale_contracts",
    "missing_greeks_contracts",
    "contracts_with_gaps",
    "top_gappy_contracts",
    "validation_stats",
    "source",
)
_GAPPY_KEYS = ("contract_id", "contract_symbol", "gap_count", "longest_gap_seconds")
#: The window's ticks are read in slices of this length (each ordered by time).
SLICE = timedelta(hours=1)
_MICROSECOND = timedelta(microseconds=1)

_TICKS = text(
    """
SELECT m.time, m.contract_id, m.bid_price, m.ask_price, m.last_price, m.bid_size, m.ask_size,
       m.last_size, m.volume, m.open_interest, m.implied_volatility, m.delta, m.gamma,
       m.theta, m.vega, m.rho, m.underlying_price, m.tick_type, u.symbol AS underlying,
       c.expiration_date AS expiry, CAST(c.strike_price AS float8) AS strike,
       c.option_type AS "right", c.underlying_id, u.sec_type
FROM market_data_ticks m
JOIN option_chains c ON c.id = m.contract_id
JOIN underlying_securities u ON u.id = c.underlying_id
WHERE m.time > :start AND m.time <= :end AND m.source_id = :source
  AND (CAST(:symbol AS text) IS NULL OR u.symbol = CAST(:symbol AS text))
ORDER BY m.time, m.contract_id
"""
)


@dataclass
class QualityRun:
    """One quality run: its report, id and findings.

    Attributes:
        run_id: the ``data_quality_metrics.run_id`` of every row this run wrote.
        report: the report dictionary (exactly :data:`REPORT_KEYS`).
        critical_failures: INVALID findings of critical rules (non-zero fails the run).
        window: the window checked.
    """

    run_id: uuid.UUID
    report: dict[str, Any]
    critical_failures: int
    window: q.Window
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        """True when no critical rule failed."""
        return self.critical_failures == 0


STALE_RULE = "stale_contract"


async def run_quality(
    validator: DataValidator,
    *,
    hours_back: float,
    symbol: str | None,
    now: datetime | None = None,
    source: SourceSelection = None,
) -> QualityRun:
    """Compute, validate and persist one quality run (see the module docstring)."""
    if not hours_back > 0 or hours_back == float("inf"):
        raise DataError(f"hours_back must be a positive number of hours, got {hours_back!r}")
    db = validator.require_db()
    limits = validator.settings.validation
    end = datetime.now(UTC) if now is None else now
    if end.tzinfo is None:
        raise NaiveDatetimeError(f"now must be timezone-aware, got {end.isoformat()}")
    window = q.Window(end - timedelta(hours=hours_back), end, symbol.upper() if symbol else None)
    async with db.connect() as conn:
        products = await q.load_products(conn, window.symbol)
        if window.symbol is not None and not products:
            known = [p.symbol for p in await q.load_products(conn, None)]
            raise UnknownSymbolError(
                f"unknown symbol {window.symbol}: no underlying of that name is stored "
                f"(stored: {', '.join(known[:20]) or 'none'})"
            )
        chosen = await choose_source(
            conn,
            tables=["market_data_ticks"],
            ids=await q.contract_ids(conn, products),
            start=window.start + _MICROSECOND,
            end=window.end + _MICROSECOND,
            source=source,
            default=validator.settings.database.default_source,
        )
        if chosen is not None:
            window = replace(window, source_id=chosen.id)
        counts = await q.counts(conn, window, limits.max_spread_percent)
        missing = await q.missing_greeks(conn, window)
        gappy = await q.gaps(conn, window, products, limits.gap_seconds)
        stale = await q.stale(conn, window, products, limits.stale_after_seconds)
        await validator.load_dividends(p.underlying_id for p in products)
        tally = await _validate_window(validator, conn, window)
    stale_count = _agree_on_staleness(validator, tally, stale, limits.stale_after_seconds)
    report = {
        "period_hours": hours_back,
        "total_records": counts["total"],
        "price_data_coverage": _percent(counts["quoted"], counts["total"]),
        "wide_spread_pct": _percent(counts["wide"], counts["two_sided"]),
        "stale_contracts": stale_count,
        "missing_greeks_contracts": len(missing),
        "contracts_with_gaps": len(gappy),
        "top_gappy_contracts": [{k: g[k] for k in _GAPPY_KEYS} for g in gappy[:10]],
        "validation_stats": tally.stats(),
        "source": chosen.name if chosen is not None else None,
    }
    run = QualityRun(uuid.uuid4(), report, tally.critical_failures, window)
    run.details = {"stale": stale, "missing_greeks": missing, "gaps": gappy, "counts": counts}
    await persist_run(db, run, tally, limits)
    return run


def _agree_on_staleness(
    validator: DataValidator, tally: BatchReport, stale: list[dict[str, Any]], after: float
) -> int:
    """One count of stale contracts for the report and the rule's findings.

    The staleness rule only sees contracts with ticks in the window; the SQL metric also finds
    the active contracts without any tick there (the stalest of all). Those become findings of
    the rule too, so that ``stale_contracts`` and the rule's list are the same contracts.
    """
    rule = next((r for r in validator.rules if r.name == STALE_RULE), None)
    if rule is None:
        return len(stale)
    flagged = {g.contract_id for g in tally.groups.values() if g.rule == STALE_RULE}
    tally.add(
        Finding(STALE_RULE, ValidationResult.WARNING, "no tick in the window",
                s["contract_id"], None, rule.critical, None, after)
        for s in stale if s["contract_id"] not in flagged
    )  # fmt: skip
    return len({g.contract_id for g in tally.groups.values() if g.rule == STALE_RULE})


def _percent(part: int, whole: int) -> float:
    return 100.0 * part / whole if whole else 0.0


async def _validate_window(
    validator: DataValidator, conn: AsyncConnection, window: q.Window
) -> BatchReport:
    """Feed the window's ticks to the rules in batches, in time order."""
    context = validator.context(now=window.end, as_of=window.end, window_start=window.start)
    tally = BatchReport(keep_findings=False)
    async for batch in _batches(conn, window, validator.batch_size):
        await validator.feed(batch, context, tally)
    await validator.finish(context, tally)
    return tally


async def _batches(
    conn: AsyncConnection, window: q.Window, size: int
) -> AsyncIterator[list[MarketDataSnapshot]]:
    """The window's ticks as snapshots, ``size`` at a time, one query per time slice."""
    start = window.start
    new = MarketDataSnapshot
    while start < window.end:
        stop = min(start + SLICE, window.end)
        params = {"start": start, "end": stop, "symbol": window.symbol,
                  "source": window.source_id}  # fmt: skip
        result = await conn.stream(_TICKS, params)
        async for partition in result.partitions(size):
            yield [new(*row) for row in partition]
        start = stop
