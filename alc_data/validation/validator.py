"""``DataValidator``: runs the rules over batches and produces the quality report."""

from __future__ import annotations

import inspect
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import text

from alc_data.arguments import check_window_hours
from alc_data.config import Settings, default_settings
from alc_data.db.database import Database
from alc_data.db.translate import translating
from alc_data.validation.rule import ValidationRule, check_rule_name
from alc_data.validation.rules_arbitrage import ArbitrageBoundsRule, PutCallParityRule
from alc_data.validation.rules_quote import GreeksBoundsRule, PriceSanityRule, WideSpreadRule
from alc_data.validation.rules_time import (
    GapRule,
    StalenessRule,
    TimeConsistencyRule,
    VolumeMonotonicRule,
)
from alc_data.validation.tally import BatchReport
from alc_data.validation.types import Finding, MarketDataSnapshot, ValidationContext

if TYPE_CHECKING:
    from alc_data.validation.quality import QualityRun

__all__ = ["DataValidator", "default_rules"]

DividendMap = dict[int, list[tuple[date, float]]]

_DIVIDENDS_SQL = text(
    "SELECT underlying_id, ex_date, amount FROM corporate_actions "
    "WHERE action_type IN ('DIVIDEND', 'SPECIAL_DIV') AND amount IS NOT NULL "
    "AND underlying_id = ANY(CAST(:ids AS bigint[])) ORDER BY underlying_id, ex_date"
)


def default_rules() -> list[ValidationRule]:
    """A fresh instance of every built-in rule."""
    return [
        PriceSanityRule(),
        WideSpreadRule(),
        GreeksBoundsRule(),
        TimeConsistencyRule(),
        GapRule(),
        StalenessRule(),
        VolumeMonotonicRule(),
        ArbitrageBoundsRule(),
        PutCallParityRule(),
    ]


class DataValidator:
    """Validates option quotes with a list of rules, in batches, and reports data quality.

    Args:
        db: a :class:`~alc_data.db.database.Database`, an ``asyncpg.Pool``, an ``AsyncEngine``
            or a URL; None validates snapshots only (no dividends, no quality report).
        settings: thresholds (``settings.validation``); default: the database's settings.
        rules: the rules to run; default: :func:`default_rules`. ``validator.rules`` is a plain
            list: append your own :class:`ValidationRule` to it.
        batch_size: ticks per batch when the quality report reads the window.

    Attributes:
        rules: the rules, run in order.
        last_run: the last quality run (report, run id, critical failures), or None.
    """

    def __init__(
        self,
        db: Any = None,
        *,
        settings: Settings | None = None,
        rules: Iterable[ValidationRule] | None = None,
        batch_size: int = 20_000,
    ) -> None:
        self.db: Database | None = Database.coerce(db) if db is not None else None
        if settings is None:
            settings = self.db.settings if self.db is not None else default_settings()
        self.settings = settings
        self.rules: list[ValidationRule] = list(rules) if rules is not None else default_rules()
        self.batch_size = batch_size
        self.last_run: QualityRun | None = None
        self._dividends: DividendMap = {}
        self._dividends_loaded: set[int] = set()

    def context(
        self,
        *,
        now: datetime | None = None,
        as_of: datetime | None = None,
        window_start: datetime | None = None,
        dividends: Mapping[int, Sequence[tuple[date, float]]] | None = None,
    ) -> ValidationContext:
        """A fresh evaluation context with this validator's thresholds.

        Args:
            now: the current time (default: now).
            as_of: where staleness is measured (default: the latest tick evaluated).
            window_start: ticks before it are not part of the evaluation.
            dividends: ``{underlying_id: [(ex_date, amount), ...]}``; default: the dividends
                this validator loaded from ``corporate_actions``.
        """
        ctx = ValidationContext(
            limits=self.settings.validation,
            as_of=as_of,
            window_start=window_start,
            dividends=self._dividends if dividends is None else dividends,
        )
        if now is not None:
            ctx.now = now
        return ctx

    async def validate(
        self, snapshot: MarketDataSnapshot, context: ValidationContext | None = None
    ) -> list[Finding]:
        """Every rule's findings on one snapshot (empty when all rules find it valid)."""
        return (await self.validate_batch([snapshot], context)).findings

    async def validate_batch(
        self,
        snapshots: Sequence[MarketDataSnapshot],
        context: ValidationContext | None = None,
    ) -> BatchReport:
        """Run every rule over ``snapshots`` at once and count the verdicts.

        No database round trip per tick: with a database, the dividends of the batch's
        underlyings are loaded once (one query) and cached.

        Args:
            snapshots: the ticks, each contract's in time order.
            context: an evaluation context (default: :meth:`context`).

        Returns:
            The :class:`BatchReport` (per-verdict counts, per-rule counts, findings).
        """
        if context is None:
            await self.load_dividends({s.underlying_id for s in snapshots})
            context = self.context()
        report = BatchReport()
        await self.feed(snapshots, context, report)
        await self.finish(context, report)
        return report

    async def feed(
        self,
        snapshots: Sequence[MarketDataSnapshot],
        context: ValidationContext,
        report: BatchReport,
    ) -> None:
        """Run the rules over one batch of a longer evaluation (see :meth:`finish`)."""
        context.observe(snapshots)
        report.total += len(snapshots)
        for rule in list(self.rules):
            report.add(await _run_rule(rule, snapshots, context))

    async def finish(self, context: ValidationContext, report: BatchReport) -> None:
        """Collect the findings rules can only make once every batch was fed (staleness)."""
        for rule in list(self.rules):
            finish = getattr(rule, "finish", None)
            if finish is not None:
                report.add(await finish(context))

    async def load_dividends(self, underlying_ids: Iterable[int | None]) -> None:
        """Load (once) the cash dividends of these underlyings from ``corporate_actions``."""
        wanted = sorted({i for i in underlying_ids if i is not None} - self._dividends_loaded)
        if self.db is None or not wanted:
            return
        with translating():
            async with self.db.connect() as conn:
                rows = (await conn.execute(_DIVIDENDS_SQL, {"ids": wanted})).all()
        for underlying_id, ex_date, amount in rows:
            self._dividends.setdefault(underlying_id, []).append((ex_date, float(amount)))
        self._dividends_loaded.update(wanted)

    async def run_quality_check(
        self,
        hours_back: float = 24,
        symbol: str | None = None,
        *,
        now: datetime | None = None,
        source: str | int | None = None,
    ) -> dict[str, Any]:
        """Report the data quality of the ticks with ``time`` in (now - hours_back, now].

        Computes the metrics with SQL over the window, runs the rules over the window's
        ticks in batches, and writes the summary and findings to ``data_quality_metrics``
        under one ``run_id`` (``validator.last_run.run_id``).

        Args:
            hours_back: the window's length in hours (> 0).
            symbol: only contracts on this underlying symbol.
            now: the window's end (default: the current time; for replays and tests).
            source: the ``data_sources`` name or id whose ticks are checked; default: the
                one source with ticks in the window, else ``ALC_DEFAULT_SOURCE``.

        Returns:
            ``period_hours``, ``total_records``, ``price_data_coverage``,
            ``wide_spread_pct``, ``stale_contracts``, ``missing_greeks_contracts``,
            ``contracts_with_gaps``, ``top_gappy_contracts``, ``validation_stats``
            (DESIGN.md section 6), and ``source`` (the name of the source checked).

        Raises:
            InvalidArgumentError: ``hours_back`` is not a finite number of hours within ten
                years, or a rule's name is not a string of 1-64 characters (checked before
                anything is computed or stored).
            DatabaseUnavailableError: the database cannot be reached.
            SchemaError: the database is not migrated.
            AmbiguousSourceError: several sources hold ticks in the window, none chosen.
        """
        from alc_data.validation.quality import run_quality

        check_window_hours(hours_back, "hours_back")
        for rule in self.rules:
            check_rule_name(getattr(rule, "name", None))

        with translating():
            self.last_run = await run_quality(
                self, hours_back=hours_back, symbol=symbol, now=now, source=source
            )
        return self.last_run.report

    def require_db(self) -> Database:
        """The database, or a clear error when the validator was built without one."""
        if self.db is None:
            from alc_data.errors import ConfigError

            raise ConfigError("DataValidator was built without a database (db=None)")
        return self.db


async def _run_rule(
    rule: Any, snapshots: Sequence[MarketDataSnapshot], context: ValidationContext
) -> list[Finding]:
    """A rule's findings on a batch; rules with only a ``validate`` method are adapted."""
    batch = getattr(rule, "validate_batch", None)
    if batch is None:  # duck-typed rule that is not a ValidationRule subclass
        adapter = ValidationRule(getattr(rule, "name", type(rule).__name__), "")
        adapter.critical = bool(getattr(rule, "critical", False))
        adapter.validate = rule.validate  # type: ignore[method-assign]
        batch = adapter.validate_batch
    result = batch(snapshots, context)
    found = await result if inspect.isawaitable(result) else result
    return list(found)
