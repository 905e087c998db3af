"""Writing a quality run to ``data_quality_metrics``: one ``run_id``, summary and findings.

Rows (``metric_type``):

- ``quality_run``: one row; ``details`` holds the whole report, the window and the symbol;
  ``passed`` is False when a critical rule failed;
- ``summary``: one row per numeric report key (``rule`` = the key), with its threshold;
- ``stale_contract``, ``missing_greeks``, ``tick_gaps``: one row per contract found by SQL;
- ``rule_finding``: one row per (rule, contract, severity), ``metric_value`` = how many
  ticks, ``details`` = first and last tick time, a sample message and the last measured value.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import insert

from alc_data.config import ValidationSettings
from alc_data.db.database import Database
from alc_data.db.models import DataQualityMetric
from alc_data.validation.tally import BatchReport

if TYPE_CHECKING:
    from alc_data.validation.quality import QualityRun

__all__ = ["persist_run"]


async def persist_run(
    db: Database,
    run: QualityRun,
    tally: BatchReport,
    limits: ValidationSettings,
) -> None:
    """Insert every row of ``run`` in one transaction."""
    rows = [
        *_run_rows(run, limits),
        *_sql_finding_rows(run, limits),
        *_rule_rows(tally),
    ]
    for row in rows:  # check_timestamp: the server's now() (when the check ran)
        row["run_id"] = run.run_id
    async with db.begin() as conn:
        await conn.execute(insert(DataQualityMetric), rows)


def _row(metric_type: str, **values: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "metric_type": metric_type,
        "rule": None,
        "severity": "info",
        "underlying_id": None,
        "contract_id": None,
        "metric_value": None,
        "threshold_value": None,
        "passed": None,
        "details": None,
    }
    row.update(values)
    return row


def _run_rows(run: QualityRun, limits: ValidationSettings) -> list[dict[str, Any]]:
    report = run.report
    window = {"start": run.window.start.isoformat(), "end": run.window.end.isoformat()}
    details = {"report": _jsonable(report), "window": window, "symbol": run.window.symbol,
               "critical_failures": run.critical_failures}  # fmt: skip
    rows = [
        _row("quality_run", severity="info" if run.passed else "critical",
             metric_value=float(run.critical_failures), passed=run.passed, details=details)
    ]  # fmt: skip
    thresholds: dict[str, float | None] = {
        "wide_spread_pct": limits.max_spread_percent,
        "stale_contracts": float(limits.stale_after_seconds),
        "contracts_with_gaps": float(limits.gap_seconds),
    }
    for key in ("total_records", "price_data_coverage", "wide_spread_pct", "stale_contracts",
                "missing_greeks_contracts", "contracts_with_gaps"):  # fmt: skip
        value = float(report[key])
        is_count = key in ("stale_contracts", "missing_greeks_contracts", "contracts_with_gaps")
        rows.append(
            _row("summary", rule=key, metric_value=value, threshold_value=thresholds.get(key),
                 passed=(value == 0) if is_count else None,
                 severity="warning" if is_count and value else "info")
        )  # fmt: skip
    return rows


def _sql_finding_rows(run: QualityRun, limits: ValidationSettings) -> list[dict[str, Any]]:
    rows = []
    for s in run.details.get("stale", []):
        last, as_of = s["last_tick"], s["as_of"]
        age = (as_of - last).total_seconds() if last is not None else None
        rows.append(
            _row("stale_contract", rule="stale_contracts", severity="warning",
                 contract_id=s["contract_id"], underlying_id=s["underlying_id"],
                 metric_value=age, threshold_value=float(limits.stale_after_seconds),
                 passed=False, details=_jsonable(s))
        )  # fmt: skip
    for m in run.details.get("missing_greeks", []):
        rows.append(
            _row("missing_greeks", rule="missing_greeks_contracts", severity="warning",
                 contract_id=m["contract_id"], underlying_id=m["underlying_id"],
                 metric_value=float(len(m["missing"])), passed=False, details=_jsonable(m))
        )  # fmt: skip
    for g in run.details.get("gaps", []):
        rows.append(
            _row("tick_gaps", rule="contracts_with_gaps", severity="warning",
                 contract_id=g["contract_id"], underlying_id=g["underlying_id"],
                 metric_value=float(g["gap_count"]), threshold_value=float(limits.gap_seconds),
                 passed=False, details=_jsonable(g))
        )  # fmt: skip
    return rows


def _rule_rows(tally: BatchReport) -> list[dict[str, Any]]:
    rows = []
    for group in tally.groups.values():
        details = {
            "first_time": group.first_time,
            "last_time": group.last_time,
            "message": group.message,
            "last_value": group.metric_value,
        }
        rows.append(
            _row("rule_finding", rule=group.rule, severity=group.severity,
                 contract_id=group.contract_id, metric_value=float(group.count),
                 threshold_value=_finite(group.threshold_value), passed=False,
                 details=_jsonable(details))
        )  # fmt: skip
    return rows


def _finite(x: float | None) -> float | None:
    return x if x is not None and x == x and abs(x) != float("inf") else None


def _jsonable(value: Any) -> Any:
    """``value`` with datetimes as ISO strings and non-finite floats as strings (JSONB-safe)."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, float) and _finite(value) is None:
        return str(value)
    return value
