"""Rendering a quality report for people (the ``--json`` form is the report itself)."""

from __future__ import annotations

from typing import Any

__all__ = ["render_report"]


def render_report(report: dict[str, Any], *, run_id: object = None, passed: bool = True) -> str:
    """A human-readable, aligned summary of :meth:`DataValidator.run_quality_check`'s report."""
    stats = report["validation_stats"]
    lines = [
        f"period                 last {report['period_hours']:g} h",
        f"tick rows              {report['total_records']}",
        f"price data coverage    {report['price_data_coverage']:.2f} % (rows with bid and ask)",
        f"wide spreads           {report['wide_spread_pct']:.2f} % of two-sided rows",
        f"stale contracts        {report['stale_contracts']}",
        f"missing greeks         {report['missing_greeks_contracts']} contracts (latest tick)",
        f"contracts with gaps    {report['contracts_with_gaps']}",
    ]
    for g in report["top_gappy_contracts"]:
        name = g["contract_symbol"] or f"#{g['contract_id']}"
        lines.append(
            f"    {name:<24} {g['gap_count']:>5} gaps, longest {g['longest_gap_seconds']:.0f} s"
        )
    lines.append(
        f"validated ticks        {stats['total_validated']}: {stats['valid']} valid, "
        f"{stats['warnings']} with warnings, {stats['invalid']} invalid"
    )
    contract_rules = set(stats.get("contract_rules", ()))
    if contract_rules:
        lines.append(
            f"flagged contracts      {stats.get('contract_warnings', 0)} with warnings, "
            f"{stats.get('contract_invalid', 0)} invalid (rules over whole contracts)"
        )
    if stats["rule_failures"]:
        lines.append("findings by rule")
    for rule, count in stats["rule_failures"].items():
        unit = "contracts" if rule in contract_rules else "ticks"
        lines.append(f"    {rule:<24} {count} {unit}")
    if run_id is not None:
        lines.append(f"run id                 {run_id}")
    lines.append("result                 " + ("OK" if passed else "FAILED (critical rule)"))
    return "\n".join(lines)
