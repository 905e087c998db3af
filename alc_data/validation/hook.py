"""Optional inline validation in the write path (off by default).

Wire it into a tick writer with its ``before_write`` callback::

    hook = InlineValidationHook(DataValidator(db), enabled=True, on_findings=print)
    async with TickWriter(db, before_write=hook.check) as writer:
        await writer.put(OptionTick(contract_id, now, bid_price=1.3, ask_price=1.2))

The writer calls :meth:`InlineValidationHook.check` with each flush's rows (every row once)
before it COPYs them. Findings never block the write: the rows are stored (the rules judge
quotes, and a crossed quote is still what the market sent); the hook records them
(:attr:`~InlineValidationHook.rule_failures`, :attr:`~InlineValidationHook.last_report`,
``on_findings``). The hook keeps one evaluation context for its lifetime, so gap and volume
rules see across flushes; staleness is left to the quality run. Its cost is measured by
``benchmarks/validation.py`` (the ``inline_*`` figures, the hook alone) and by
``benchmarks/ingest.py --inline-validation`` (the writer's throughput with the hook on).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import text

from alc_data.db.rows import OptionTick
from alc_data.validation.tally import BatchReport
from alc_data.validation.types import MarketDataSnapshot, ValidationContext
from alc_data.validation.validator import DataValidator

__all__ = ["TICK_COLUMNS", "ContractTerms", "InlineValidationHook"]

#: The column order of a tick row in the write path: the fields of :class:`OptionTick`, the
#: rows :class:`~alc_data.TickWriter` writes (``market_data_ticks`` minus generated columns).
TICK_COLUMNS: tuple[str, ...] = OptionTick._fields

_TERMS_SQL = text(
    "SELECT c.id, u.symbol, c.expiration_date, CAST(c.strike_price AS float8) AS strike, "
    "c.option_type, c.underlying_id, u.sec_type FROM option_chains c "
    "JOIN underlying_securities u ON u.id = c.underlying_id "
    "WHERE c.id = ANY(CAST(:ids AS bigint[]))"
)


@dataclass(frozen=True, slots=True)
class ContractTerms:
    """What a snapshot needs to know about its contract."""

    underlying: str | None
    expiry: date | None
    strike: float | None
    right: str | None
    underlying_id: int | None = None
    sec_type: str | None = None


class InlineValidationHook:
    """Validates tick rows as they are written; disabled unless ``enabled=True``.

    Args:
        validator: the rules and thresholds (default: a database-less built-in validator).
        enabled: when False (the default), :meth:`check` returns None at once.
        columns: the order of the values in a row (default: :class:`OptionTick`'s fields).
        terms: contract terms by contract id; unknown contracts are loaded from the
            validator's database (one query per flush that meets new contracts).
        on_findings: called with each flush's report when it has findings.

    Attributes:
        checked: rows validated so far.
        rule_failures: findings per rule over the hook's lifetime.
        last_report: the report of the latest flush that had findings.
    """

    def __init__(
        self,
        validator: DataValidator | None = None,
        *,
        enabled: bool = False,
        columns: Sequence[str] = TICK_COLUMNS,
        terms: Mapping[int, ContractTerms] | None = None,
        on_findings: Callable[[BatchReport], Any] | None = None,
    ) -> None:
        self.validator = validator if validator is not None else DataValidator(None)
        self.enabled = enabled
        self.columns = tuple(columns)
        self.terms: dict[int, ContractTerms] = dict(terms or {})
        self.on_findings = on_findings
        self.context: ValidationContext = self.validator.context()
        self.reports = 0
        self.checked = 0
        self.rule_failures: Counter[str] = Counter()
        self.last_report: BatchReport | None = None

    async def check(self, rows: Sequence[Sequence[Any]]) -> BatchReport | None:
        """Validate one flush of rows; None when disabled."""
        if not self.enabled or not rows:
            return None
        snapshots = await self.snapshots(rows)
        report = BatchReport()
        self.context.now = datetime.now(UTC)
        await self.validator.feed(snapshots, self.context, report)
        self.reports += 1
        self.checked += report.total
        if report.rule_failures:
            self.rule_failures.update(report.rule_failures)
            self.last_report = report
            if self.on_findings is not None:
                self.on_findings(report)
        return report

    async def snapshots(self, rows: Iterable[Sequence[Any]]) -> list[MarketDataSnapshot]:
        """Rows (in :attr:`columns` order) joined with their contract terms."""
        rows = list(rows)
        index = {name: i for i, name in enumerate(self.columns)}
        cid = index["contract_id"]
        await self._load_terms({row[cid] for row in rows} - self.terms.keys())
        names = self.columns
        unknown = ContractTerms(None, None, None, None)
        out = []
        for row in rows:
            t = self.terms.get(row[cid], unknown)
            values = dict(zip(names, row, strict=False))
            out.append(
                MarketDataSnapshot(
                    **values, underlying=t.underlying, expiry=t.expiry, strike=t.strike,
                    right=t.right, underlying_id=t.underlying_id, sec_type=t.sec_type,
                )
            )  # fmt: skip
        return out

    async def _load_terms(self, contract_ids: set[int]) -> None:
        db = self.validator.db
        if db is None or not contract_ids:
            return
        async with db.connect() as conn:
            rows = (await conn.execute(_TERMS_SQL, {"ids": sorted(contract_ids)})).all()
        for r in rows:
            self.terms[r.id] = ContractTerms(
                r.symbol, r.expiration_date, r.strike, r.option_type, r.underlying_id, r.sec_type
            )
        await self.validator.load_dividends(r.underlying_id for r in rows)
