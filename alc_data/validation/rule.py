"""``ValidationRule``: the documented extension point, and ``BatchRule`` for the built-ins.

A user rule implements ``async validate(snapshot, context=None) -> (ValidationResult, str)``;
the validator adapts it to batches automatically (:meth:`ValidationRule.validate_batch`). A
built-in rule implements the batch API directly (:meth:`BatchRule.check`), which is what makes
the built-in set fast, and gets ``validate`` for free.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Iterable, Sequence
from typing import Any

from alc_data.errors import InvalidArgumentError
from alc_data.validation.types import (
    Finding,
    MarketDataSnapshot,
    ValidationContext,
    ValidationResult,
    worse,
)

__all__ = ["MAX_RULE_NAME", "BatchRule", "ValidationRule", "check_rule_name"]

log = logging.getLogger(__name__)


#: ``data_quality_metrics.rule`` holds at most this many characters.
MAX_RULE_NAME = 64


def check_rule_name(name: object) -> str:
    """``name`` if it can name a rule in ``data_quality_metrics`` (a string of 1-64 characters).

    Raises:
        InvalidArgumentError: otherwise (before anything of a quality run is computed).
    """
    if not isinstance(name, str) or not 0 < len(name) <= MAX_RULE_NAME:
        raise InvalidArgumentError(
            f"a validation rule's name must be a string of 1 to {MAX_RULE_NAME} characters, "
            f"got {name!r:.80}"
        )
    return name


class ValidationRule:
    """A named check on market data snapshots.

    Subclass it and implement :meth:`validate`; append an instance to ``validator.rules``.

    Args:
        name: a short identifier, used in reports and in ``data_quality_metrics.rule``.
        description: one line saying what the rule checks.
        critical: an INVALID verdict of a critical rule fails the quality run (the command
            line exits non-zero).
    """

    def __init__(self, name: str, description: str, critical: bool = False) -> None:
        self.name = check_rule_name(name)
        self.description = description
        self.critical = critical

    async def validate(
        self, snapshot: MarketDataSnapshot, context: ValidationContext | None = None
    ) -> tuple[ValidationResult, str]:
        """Judge one snapshot.

        Args:
            snapshot: the quote to check.
            context: thresholds, the clock and reference data (may be None).

        Returns:
            ``(ValidationResult, message)``.
        """
        raise NotImplementedError(f"rule {self.name!r} does not implement validate()")

    async def validate_batch(
        self, snapshots: Sequence[MarketDataSnapshot], context: ValidationContext
    ) -> list[Finding]:
        """Judge a batch; the default calls :meth:`validate` once per snapshot.

        Returns:
            One finding per snapshot that is not VALID.
        """
        findings: list[Finding] = []
        for snapshot in snapshots:
            try:
                verdict = self.validate(snapshot, context)
                outcome: Any = await verdict if inspect.isawaitable(verdict) else verdict
                result, message = _normalise(outcome)
            except Exception as exc:  # a user rule's bug must not abort the whole run
                log.warning("rule %s raised on %r: %s", self.name, snapshot.key, exc)
                result, message = ValidationResult.WARNING, f"rule raised {type(exc).__name__}"
            if result is not ValidationResult.VALID:
                findings.append(
                    Finding(
                        self.name, result, message, snapshot.contract_id, snapshot.time,
                        self.critical,
                    )
                )  # fmt: skip
        return findings

    async def finish(self, context: ValidationContext) -> list[Finding]:
        """Findings that are only known once every batch was seen (default: none)."""
        return []

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r}, critical={self.critical})"


def _normalise(outcome: Any) -> tuple[ValidationResult, str]:
    """Accept ``(result, message)``, a bare result, or a boolean from a user rule."""
    if isinstance(outcome, tuple) and len(outcome) == 2:
        return ValidationResult(outcome[0]), str(outcome[1])
    if isinstance(outcome, bool):
        return (ValidationResult.VALID, "OK") if outcome else (ValidationResult.INVALID, "failed")
    return ValidationResult(outcome), ""


class BatchRule(ValidationRule):
    """A rule that judges whole batches; subclasses implement :meth:`check`."""

    def check(
        self, snapshots: Sequence[MarketDataSnapshot], context: ValidationContext
    ) -> Iterable[Finding]:
        """The findings of this rule on ``snapshots`` (only the non-valid ones)."""
        raise NotImplementedError

    async def validate_batch(
        self, snapshots: Sequence[MarketDataSnapshot], context: ValidationContext
    ) -> list[Finding]:
        """Judge a batch in one pass (no per-snapshot awaits)."""
        return list(self.check(snapshots, context))

    async def validate(
        self, snapshot: MarketDataSnapshot, context: ValidationContext | None = None
    ) -> tuple[ValidationResult, str]:
        """Judge one snapshot through the batch API (a batch of one)."""
        findings = list(self.check([snapshot], context or ValidationContext()))
        if not findings:
            return ValidationResult.VALID, "OK"
        result = ValidationResult.VALID
        for finding in findings:
            result = worse(result, finding.result)
        return result, "; ".join(f.message for f in findings)

    def found(
        self,
        snapshot: MarketDataSnapshot,
        result: ValidationResult,
        message: str,
        value: float | None = None,
        threshold: float | None = None,
    ) -> Finding:
        """A finding of this rule on ``snapshot``."""
        return Finding(
            self.name, result, message, snapshot.contract_id, snapshot.time, self.critical,
            value, threshold,
        )  # fmt: skip
