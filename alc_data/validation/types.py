"""The values rules work on: snapshots, results, findings and the evaluation context."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from alc_data.config import ValidationSettings
from alc_data.trading_sessions import plausible

__all__ = [
    "Finding",
    "MarketDataSnapshot",
    "ValidationContext",
    "ValidationResult",
    "worse",
]


class ValidationResult(StrEnum):
    """The verdict of a rule on one snapshot."""

    VALID = "valid"
    WARNING = "warning"
    INVALID = "invalid"


_RANK = {ValidationResult.VALID: 0, ValidationResult.WARNING: 1, ValidationResult.INVALID: 2}


def worse(a: ValidationResult, b: ValidationResult) -> ValidationResult:
    """The more severe of two results (INVALID > WARNING > VALID)."""
    return a if _RANK[a] >= _RANK[b] else b


@dataclass(frozen=True, slots=True)
class MarketDataSnapshot:
    """One option quote: the ``market_data_ticks`` columns plus the contract's terms.

    ``mid_price`` and ``bid_ask_spread`` are computed exactly as the database's generated
    columns are. Every numeric field may be None (missing); rules never raise on NaN or inf.

    Attributes:
        time: when the quote was observed (must be timezone-aware).
        contract_id: ``option_chains.id``.
        underlying: the underlying's symbol (``SPY``); decides the session hours.
        expiry: the contract's expiration date.
        strike: the strike price.
        right: ``"C"`` or ``"P"``.
        underlying_id: ``underlying_securities.id`` (dividends are looked up by it).
        sec_type: the underlying's security type (``STK`` or ``IND``; IND = European style).
    """

    time: datetime
    contract_id: int | None = None
    bid_price: float | None = None
    ask_price: float | None = None
    last_price: float | None = None
    bid_size: float | None = None
    ask_size: float | None = None
    last_size: float | None = None
    volume: float | None = None
    open_interest: float | None = None
    implied_volatility: float | None = None
    delta: float | None = None
    gamma: float | None = None
    theta: float | None = None
    vega: float | None = None
    rho: float | None = None
    underlying_price: float | None = None
    tick_type: str = "REALTIME"
    underlying: str | None = None
    expiry: date | None = None
    strike: float | None = None
    right: str | None = None
    underlying_id: int | None = None
    sec_type: str | None = None

    @property
    def mid_price(self) -> float | None:
        """``(bid_price + ask_price) / 2`` or None when either side is missing."""
        if self.bid_price is None or self.ask_price is None:
            return None
        return (self.bid_price + self.ask_price) / 2

    @property
    def bid_ask_spread(self) -> float | None:
        """``ask_price - bid_price`` or None when either side is missing."""
        if self.bid_price is None or self.ask_price is None:
            return None
        return self.ask_price - self.bid_price

    @property
    def key(self) -> tuple[int | None, datetime]:
        """The tick's identity, the table's primary key ``(contract_id, time)``."""
        return (self.contract_id, self.time)

    @classmethod
    def from_mapping(cls, row: Mapping[str, Any]) -> MarketDataSnapshot:
        """Build from a row mapping with the table's column names (extra keys are ignored).

        ``strike_price``, ``option_type``, ``expiration_date`` and ``symbol`` are accepted as
        aliases of ``strike``, ``right``, ``expiry`` and ``underlying``.
        """
        values = {name: row[name] for name in _FIELDS if name in row}
        for alias, name in _ALIASES.items():
            if alias in row and name not in values:
                values[name] = row[alias]
        strike = values.get("strike")
        if isinstance(strike, Decimal):
            values["strike"] = float(strike)
        if values.get("tick_type") is None:
            values.pop("tick_type", None)
        return cls(**values)


_FIELDS = frozenset(MarketDataSnapshot.__dataclass_fields__)
_ALIASES = {
    "strike_price": "strike",
    "option_type": "right",
    "expiration_date": "expiry",
    "symbol": "underlying",
}


@dataclass(frozen=True, slots=True)
class Finding:
    """A non-valid verdict of one rule on one tick (or on a contract, for run-level rules).

    Attributes:
        rule: the rule's name.
        result: WARNING or INVALID.
        message: why, in words.
        contract_id: the contract concerned.
        time: the tick concerned (None for findings about a contract as a whole).
        critical: the rule is critical (an INVALID finding then fails the run).
        metric_value: the measured value, when there is one.
        threshold_value: the limit it was compared with.
    """

    rule: str
    result: ValidationResult
    message: str
    contract_id: int | None
    time: datetime | None
    critical: bool = False
    metric_value: float | None = None
    threshold_value: float | None = None

    @property
    def severity(self) -> str:
        """The ``data_quality_metrics.severity`` of this finding."""
        if self.result is ValidationResult.INVALID:
            return "critical" if self.critical else "invalid"
        return "warning" if self.result is ValidationResult.WARNING else "info"


@dataclass
class ValidationContext:
    """What rules may know besides the snapshot: the clock, thresholds and reference data.

    One context lives for one evaluation (a ``validate_batch`` call, or a whole quality run
    over many batches); stateful rules keep their per-contract memory in :attr:`state`.

    Attributes:
        limits: the thresholds (``Settings.validation``).
        now: the current time; ticks after it (plus a small clock skew) are in the future.
        as_of: the instant staleness is measured at (default: the latest tick evaluated).
        window_start: ticks before it are not part of this evaluation (staleness and gaps
            are only judged inside the window).
        dividends: cash dividends by underlying id, as ``(ex_date, amount)`` pairs.
        state: per-rule memory carried across the batches of one evaluation.
    """

    limits: ValidationSettings = field(default_factory=ValidationSettings)
    now: datetime = field(default_factory=lambda: datetime.now(UTC))
    as_of: datetime | None = None
    window_start: datetime | None = None
    dividends: Mapping[int, Sequence[tuple[date, float]]] = field(default_factory=dict)
    state: dict[str, Any] = field(default_factory=dict)
    latest_time: datetime | None = None

    def observe(self, snapshots: Sequence[MarketDataSnapshot]) -> None:
        """Remember the latest plausible tick time seen (the default staleness reference)."""
        try:
            candidates: Sequence[Any] = [max(s.time for s in snapshots)] if snapshots else []
        except TypeError:  # None, or naive and aware times mixed: look at each
            candidates = [s.time for s in snapshots]
        for t in candidates:
            if plausible(t) and (self.latest_time is None or t > self.latest_time):
                self.latest_time = t

    @property
    def reference_time(self) -> datetime | None:
        """The instant staleness is measured at: ``as_of``, else the latest tick seen."""
        return self.as_of if self.as_of is not None else self.latest_time


def finite(x: float | None) -> bool:
    """True for a real, finite number (not None, NaN or infinity)."""
    return x is not None and math.isfinite(x)
