"""Validation of option quotes: rules, batch evaluation and the data-quality report.

Rules are small objects run over batches of :class:`MarketDataSnapshot`; the documented
extension API is a :class:`ValidationRule` subclass with ``async validate(snapshot,
context=None) -> (ValidationResult, message)`` appended to ``DataValidator.rules``.
"""

from __future__ import annotations

from alc_data.validation.hook import ContractTerms, InlineValidationHook
from alc_data.validation.quality import REPORT_KEYS, QualityRun
from alc_data.validation.rule import BatchRule, ValidationRule
from alc_data.validation.rules_arbitrage import ArbitrageBoundsRule, PutCallParityRule
from alc_data.validation.rules_quote import GreeksBoundsRule, PriceSanityRule, WideSpreadRule
from alc_data.validation.rules_time import (
    GapRule,
    StalenessRule,
    TimeConsistencyRule,
    VolumeMonotonicRule,
)
from alc_data.validation.tally import BatchReport, FindingGroup
from alc_data.validation.types import (
    Finding,
    MarketDataSnapshot,
    ValidationContext,
    ValidationResult,
)
from alc_data.validation.validator import DataValidator, default_rules

__all__ = [
    "REPORT_KEYS",
    "ArbitrageBoundsRule",
    "BatchReport",
    "BatchRule",
    "ContractTerms",
    "DataValidator",
    "Finding",
    "FindingGroup",
    "GapRule",
    "GreeksBoundsRule",
    "InlineValidationHook",
    "MarketDataSnapshot",
    "PriceSanityRule",
    "PutCallParityRule",
    "QualityRun",
    "StalenessRule",
    "TimeConsistencyRule",
    "ValidationContext",
    "ValidationResult",
    "ValidationRule",
    "VolumeMonotonicRule",
    "WideSpreadRule",
    "default_rules",
]
