"""What ran over the window: quality findings by rule, history loading, arbitrage scans."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from alc_data.report.plain import plain_rows
from alc_data.report.window import ReportWindow

#: The finding rows a quality run writes (``alc_data.validation.persist``).
_FINDING_TYPES = ("rule_finding", "stale_contract", "missing_greeks", "tick_gaps")

_FINDINGS = text(
    """
SELECT date_bin(:bucket, q.check_timestamp, :origin) AS bucket, q.rule, q.severity,
       count(*) AS findings
FROM data_quality_metrics q LEFT JOIN option_chains c ON c.id = q.contract_id
WHERE q.check_timestamp > :start AND q.check_timestamp <= :end
  AND q.metric_type = ANY(:types) AND q.passed IS NOT TRUE
  AND coalesce(q.underlying_id, c.underlying_id) = :u
GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
"""
)

_RUNS = text(
    """
SELECT count(*) FROM data_quality_metrics
WHERE metric_type = 'quality_run' AND check_timestamp > :start AND check_timestamp <= :end
"""
)

_HISTORY = text(
    """
SELECT h.trading_day, h.status, count(*) AS requests, coalesce(sum(h.bars), 0) AS bars
FROM history_requests h
LEFT JOIN option_chains c ON h.instrument_kind = 'option' AND c.id = h.instrument_id
WHERE h.source_id = :source AND h.trading_day BETWEEN :first_day AND :last_day
  AND CASE WHEN h.instrument_kind = 'option' THEN c.underlying_id ELSE h.instrument_id END = :u
GROUP BY 1, 2 ORDER BY 1, 2
"""
)

_OPPORTUNITIES = text(
    """
SELECT date_trunc('day', o.timestamp) AS day, o.strategy_type, count(*) AS found,
       avg(o.roi_percent) AS avg_roi_percent
FROM arbitrage_opportunities o
WHERE o.underlying_id = :u AND o.timestamp > :start AND o.timestamp <= :end
GROUP BY 1, 2 ORDER BY 1, 2
"""
)

_BEST = text(
    """
SELECT o.timestamp, o.strategy_type, o.expiration_date, o.call_strike, o.put_strike,
       o.theoretical_profit, o.roi_percent, o.confidence_score, s.name AS source,
       o.discovered_by
FROM arbitrage_opportunities o LEFT JOIN data_sources s ON s.id = o.source_id
WHERE o.underlying_id = :u AND o.timestamp > :start AND o.timestamp <= :end
ORDER BY o.theoretical_profit DESC NULLS LAST, o.timestamp LIMIT 10
"""
)

_BACKTESTS = text(
    """
SELECT run_id, strategy_type, start_date, end_date, status, total_trades, total_profit,
       sharpe_ratio, win_rate, max_drawdown, created_at
FROM backtest_runs
WHERE :symbol = ANY(symbols) AND start_date <= :last_day AND end_date >= :first_day
ORDER BY created_at DESC LIMIT 10
"""
)


async def findings(
    conn: AsyncConnection, window: ReportWindow, underlying_id: int
) -> dict[str, Any]:
    """Findings (flagged contracts) per bucket, rule and severity."""
    params = window.params(u=underlying_id, types=list(_FINDING_TYPES))
    rows = plain_rows(await conn.execute(_FINDINGS, params))
    empty = None
    if not rows:
        runs = int(await conn.scalar(_RUNS, window.params()) or 0)
        empty = (
            "no quality run in the window (alc-data validate writes them)"
            if runs == 0
            else f"no findings for this underlying in the {runs} quality run(s) of the window"
        )
    return {"rows": rows, "empty": empty}


async def history_progress(
    conn: AsyncConnection, window: ReportWindow, underlying_id: int
) -> dict[str, Any]:
    """History requests of the source per trading day and status."""
    params = window.params(u=underlying_id, first_day=window.first_day, last_day=window.last_day)
    rows = plain_rows(await conn.execute(_HISTORY, params))
    empty = None
    if not rows:
        empty = (
            f"no history requests of this source for trading days {window.first_day} to "
            f"{window.last_day} (alc-data load-history records them)"
        )
    return {"rows": rows, "empty": empty}


async def scans(
    conn: AsyncConnection, window: ReportWindow, underlying_id: int, symbol: str
) -> dict[str, Any]:
    """Opportunities per day and kind, the ten best, and the backtests over the window."""
    params = window.params(
        u=underlying_id, symbol=symbol, first_day=window.first_day, last_day=window.last_day
    )
    by_day = plain_rows(await conn.execute(_OPPORTUNITIES, params))
    best = plain_rows(await conn.execute(_BEST, params))
    backtests = plain_rows(await conn.execute(_BACKTESTS, params))
    empty = None
    if not by_day:
        empty = (
            "no arbitrage opportunities recorded for this underlying in the window: the "
            "scanner writes them to arbitrage_opportunities"
        )
    backtests_empty = (
        None if backtests else "no backtest run covers this underlying and window (backtest_runs)"
    )
    return {
        "by_day": by_day,
        "best": best,
        "backtests": backtests,
        "empty": empty,
        "backtests_empty": backtests_empty,
    }
