"""Shared builders for the validation tests (a plain module, imported by the tests)."""

from __future__ import annotations

from collections.abc import Coroutine
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any, TypeVar

from alc_data.config import ValidationSettings
from alc_data.validation import BatchRule, Finding, MarketDataSnapshot, ValidationContext

T = TypeVar("T")

#: Tuesday 2026-11-24, 15:00 New York (20:00 UTC): a regular session day.
NOW = datetime(2026, 11, 24, 20, 0, tzinfo=UTC)
OPEN = datetime(2026, 11, 24, 14, 30, tzinfo=UTC)
EQUITY_CLOSE = datetime(2026, 11, 24, 21, 0, tzinfo=UTC)
LATE_CLOSE = datetime(2026, 11, 24, 21, 15, tzinfo=UTC)
EXPIRY = date(2026, 12, 18)


def snap(**overrides: Any) -> MarketDataSnapshot:
    """A clean at-the-money SPY call quote at NOW - 1 h; override any field."""
    base = MarketDataSnapshot(
        time=NOW - timedelta(hours=1),
        contract_id=1,
        bid_price=9.95,
        ask_price=10.05,
        last_price=10.0,
        bid_size=10,
        ask_size=12,
        last_size=1,
        volume=100,
        open_interest=1000,
        implied_volatility=0.2,
        delta=0.5,
        gamma=0.01,
        theta=-0.05,
        vega=0.3,
        underlying_price=500.0,
        underlying="SPY",
        expiry=EXPIRY,
        strike=500.0,
        right="C",
        underlying_id=1,
        sec_type="STK",
    )
    return replace(base, **overrides)


def context(**overrides: Any) -> ValidationContext:
    """A context at NOW with default thresholds (override limits with ``limits=...``)."""
    values: dict[str, Any] = {"limits": ValidationSettings(), "now": NOW}
    values.update(overrides)
    return ValidationContext(**values)


def run(rule: BatchRule, *snapshots: MarketDataSnapshot, ctx: ValidationContext | None = None
        ) -> list[Finding]:  # fmt: skip
    """The rule's findings on the snapshots, including those made at the end."""
    ctx = ctx or context()
    found = list(rule.check(list(snapshots), ctx))
    return found + sync(rule.finish(ctx))


def sync(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine that never suspends (the rules' ``finish``) without an event loop."""
    try:
        coro.send(None)
    except StopIteration as stop:
        return stop.value  # type: ignore[no-any-return]
    coro.close()
    raise RuntimeError("the coroutine suspended")
