"""Counting findings: per tick (worst verdict), per rule, and per rule and contract."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from alc_data.validation.types import Finding, ValidationResult, worse

__all__ = ["BatchReport", "FindingGroup"]


@dataclass
class FindingGroup:
    """The findings of one rule on one contract with one severity, summarised."""

    rule: str
    contract_id: int | None
    severity: str
    count: int = 0
    first_time: datetime | None = None
    last_time: datetime | None = None
    message: str = ""
    metric_value: float | None = None
    threshold_value: float | None = None

    def add(self, finding: Finding) -> None:
        """Count ``finding`` in this group."""
        self.count += 1
        t = finding.time
        if t is not None and (self.first_time is None or _before(t, self.first_time)):
            self.first_time = t
        if t is not None and (self.last_time is None or _before(self.last_time, t)):
            self.last_time = t
        if not self.message:
            self.message = finding.message
        self.metric_value = finding.metric_value
        self.threshold_value = finding.threshold_value


def _before(a: datetime, b: datetime) -> bool:
    try:
        return a < b
    except TypeError:  # naive vs aware
        return False


@dataclass
class BatchReport:
    """The outcome of validating ticks: counts per verdict and per rule, and the findings.

    A tick's verdict is the worst of its findings (VALID when it has none). Findings about a
    contract as a whole (staleness, ``time`` None) count in ``rule_failures`` only.

    Attributes:
        total: ticks validated.
        findings: every finding, in order (kept unless the report was built to summarise).
        rule_failures: findings per rule name.
        critical_failures: INVALID findings of critical rules.
        groups: findings summarised per (rule, contract, severity).
    """

    total: int = 0
    findings: list[Finding] = field(default_factory=list)
    rule_failures: Counter[str] = field(default_factory=Counter)
    critical_failures: int = 0
    groups: dict[tuple[str, int | None, str], FindingGroup] = field(default_factory=dict)
    keep_findings: bool = True
    _worst: dict[tuple[Any, Any], ValidationResult] = field(default_factory=dict, repr=False)
    _contract_worst: dict[Any, ValidationResult] = field(default_factory=dict, repr=False)
    _contract_rules: set[str] = field(default_factory=set, repr=False)

    def add(self, findings: Iterable[Finding]) -> None:
        """Count ``findings`` (their ticks must be among the ``total`` validated)."""
        worst = self._worst
        for f in findings:
            if f.result is ValidationResult.VALID:
                continue
            self.rule_failures[f.rule] += 1
            if f.critical and f.result is ValidationResult.INVALID:
                self.critical_failures += 1
            if f.time is not None:
                key = (f.contract_id, f.time)
                seen = worst.get(key)
                worst[key] = f.result if seen is None else worse(seen, f.result)
            else:  # a finding about the contract as a whole (staleness)
                self._contract_rules.add(f.rule)
                seen = self._contract_worst.get(f.contract_id)
                self._contract_worst[f.contract_id] = (
                    f.result if seen is None else worse(seen, f.result)
                )
            if self.keep_findings:
                self.findings.append(f)
            group_key = (f.rule, f.contract_id, f.severity)
            group = self.groups.get(group_key)
            if group is None:
                group = self.groups[group_key] = FindingGroup(f.rule, f.contract_id, f.severity)
            group.add(f)

    @property
    def invalid(self) -> int:
        """Ticks with at least one INVALID finding."""
        return sum(1 for r in self._worst.values() if r is ValidationResult.INVALID)

    @property
    def warnings(self) -> int:
        """Ticks whose worst finding is a WARNING."""
        return sum(1 for r in self._worst.values() if r is ValidationResult.WARNING)

    @property
    def valid(self) -> int:
        """Ticks without findings."""
        return max(0, self.total - len(self._worst))

    def stats(self) -> dict[str, Any]:
        """``{total_validated, valid, warnings, invalid, rule_failures}`` (DESIGN.md 6).

        ``valid``, ``warnings`` and ``invalid`` count ticks; findings about whole contracts
        (staleness) are counted in ``contract_warnings`` / ``contract_invalid`` (contracts),
        and ``contract_rules`` names the rules whose ``rule_failures`` count contracts.
        """
        verdicts = self._contract_worst.values()
        return {
            "total_validated": self.total,
            "valid": self.valid,
            "warnings": self.warnings,
            "invalid": self.invalid,
            "contract_warnings": sum(1 for r in verdicts if r is ValidationResult.WARNING),
            "contract_invalid": sum(1 for r in verdicts if r is ValidationResult.INVALID),
            "contract_rules": sorted(self._contract_rules),
            "rule_failures": dict(sorted(self.rule_failures.items())),
        }
