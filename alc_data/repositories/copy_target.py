"""What a bulk writer writes: table, COPY columns, the row type and how a row is checked."""

from __future__ import annotations

import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from alc_data.errors import InvalidRowError

_TICK_TYPES = frozenset({"REALTIME", "DELAYED", "FROZEN", "SNAPSHOT"})
_WIDTHS = {"tick_type": 16, "what_to_show": 32, "bar_size": 16}


@dataclass(frozen=True)
class CopyTarget:
    """A table the bulk writer fills with binary COPY.

    Attributes:
        table: the (partitioned) table.
        row_type: the NamedTuple whose fields are the COPY columns, in order.
        ref_column: the column referring to ``ref_table`` (checked before writing).
        key: the primary key (the ``ON CONFLICT`` target of the idempotent path).
        choices: columns restricted to a set of values (mirrors the CHECK constraints).
        widths: the widths of the text columns (their ``varchar`` lengths).
    """

    table: str
    row_type: type[tuple[Any, ...]]
    ref_column: str
    ref_table: str
    key: tuple[str, ...]
    choices: Mapping[str, frozenset[str]] = field(default_factory=dict)
    widths: Mapping[str, int] = field(default_factory=lambda: dict(_WIDTHS))

    @property
    def columns(self) -> tuple[str, ...]:
        """The COPY column list (the row type's fields)."""
        return tuple(self.row_type._fields)  # type: ignore[attr-defined]

    @property
    def ref_index(self) -> int:
        """Position of the reference column in a row."""
        return self.columns.index(self.ref_column)

    @property
    def time_index(self) -> int:
        """Position of the ``time`` column in a row."""
        return self.columns.index("time")


#: Times a row may carry: real market data begins after this, and nothing is quoted more
#: than ``FUTURE_LIMIT`` ahead of the writer's clock.
EARLIEST = datetime(1990, 1, 1, tzinfo=UTC)
FUTURE_LIMIT = timedelta(days=5 * 366)
#: Columns that count things (never negative).
_COUNT_COLUMNS = frozenset(
    {"bid_size", "ask_size", "last_size", "volume", "open_interest", "bar_count"}
)
_INT64_MAX = 2**63 - 1


def _now() -> datetime:
    return datetime.now(UTC)


class RowChecker:
    """Turns an input row into a COPY-ready tuple, or raises :class:`InvalidRowError`.

    A row that passes is encodable by the driver by construction (types, ranges): so a
    driver failure on a checked row is never the row's fault. Checked, by the row type's
    annotations: the reference is an int; ``time`` is an aware datetime from 1990 to five
    years ahead of ``clock()``; integer columns hold integers (an integral float such as
    ``3.0`` becomes ``3``; ``1.5`` is refused, never truncated) within int64; numeric columns
    are finite numbers; counts (sizes, volume, open interest, bar count) are not negative;
    text columns are strings within their width and allowed values. Kept to a handful of
    attribute reads and comparisons per row: it runs for every tick.
    """

    def __init__(self, target: CopyTarget, *, clock: Callable[[], datetime] = _now) -> None:
        self.target = target
        self.clock = clock
        self._row_type = target.row_type
        self._ref = target.ref_index
        self._time = target.time_index
        kinds = _column_kinds(target)
        columns = target.columns
        self._ints = tuple(i for i, c in enumerate(columns) if kinds[c] is int and i != self._ref)
        self._floats = tuple(i for i, c in enumerate(columns) if kinds[c] is float)
        self._counts = frozenset(i for i, c in enumerate(columns) if c in _COUNT_COLUMNS)
        self._texts = tuple(
            (i, target.widths.get(c, 64)) for i, c in enumerate(columns) if kinds[c] is str
        )
        self._choices = tuple((columns.index(c), v) for c, v in target.choices.items())
        self._width = len(columns)
        self._latest = self.clock() + FUTURE_LIMIT

    def coerce(self, row: Any) -> tuple[Any, ...]:
        """The row as the target's NamedTuple (from the NamedTuple, a tuple or a mapping)."""
        if type(row) is self._row_type:
            return row
        try:
            if isinstance(row, Mapping):
                return self._row_type(**row)
            if isinstance(row, tuple) and len(row) == self._width:
                return self._row_type(*row)
        except TypeError as exc:
            raise InvalidRowError(f"not a {self._row_type.__name__}: {exc}", row) from None
        raise InvalidRowError(f"expected a {self._row_type.__name__}", row)

    def accept(self, row: Any) -> tuple[tuple[Any, ...], int]:
        """The checked, COPY-ready row and its UTC day number (days since 0001-01-01).

        Raises:
            InvalidRowError: naming the column and the reason.
        """
        checked = self.coerce(row)
        fixed = self._check_ints(checked)
        if fixed is not None:
            checked = fixed
        return checked, self.check(checked)

    def check(self, row: tuple[Any, ...]) -> int:
        """Validate a coerced row (see the class doc); returns its UTC day number."""
        ref = row[self._ref]
        if type(ref) is not int or not 0 < ref <= _INT64_MAX:
            raise InvalidRowError(f"{self.target.ref_column} must be a positive int", row)
        day = self._check_time(row)
        for i in self._floats:
            value = row[i]
            if value is None:
                continue
            try:
                finite = not isinstance(value, bool) and value - value == 0
            except (TypeError, ArithmeticError):  # a str; Decimal('sNaN')
                finite = False
            if not finite:
                raise InvalidRowError(f"{self.target.columns[i]} is not a finite number", row)
            if i in self._counts and value < 0:
                raise InvalidRowError(f"{self.target.columns[i]} is negative", row)
        if self._check_ints(row) is not None:
            raise InvalidRowError("integer columns hold floats (use accept())", row)
        for i, width in self._texts:
            value = row[i]
            if not isinstance(value, str) or not 0 < len(value) <= width:
                raise InvalidRowError(
                    f"{self.target.columns[i]} must be a string of 1 to {width} characters", row
                )
        for i, allowed in self._choices:
            if row[i] not in allowed:
                raise InvalidRowError(
                    f"{self.target.columns[i]} must be one of {sorted(allowed)}", row
                )
        return day

    def day(self, row: tuple[Any, ...]) -> int:
        """The UTC day number of a checked row."""
        at: datetime = row[self._time]
        return at.toordinal() if at.tzinfo is UTC else at.astimezone(UTC).toordinal()

    def _check_time(self, row: tuple[Any, ...]) -> int:
        at = row[self._time]
        if not isinstance(at, datetime):
            raise InvalidRowError("time must be a datetime", row)
        tz = at.tzinfo
        if tz is None or at.utcoffset() is None:
            raise InvalidRowError("naive time (attach a time zone)", row)
        if at < EARLIEST:
            raise InvalidRowError(f"time {at.isoformat()} is before {EARLIEST.date()}", row)
        if at > self._latest:
            self._latest = self.clock() + FUTURE_LIMIT
            if at > self._latest:
                raise InvalidRowError(f"time {at.isoformat()} is more than five years ahead", row)
        return at.toordinal() if tz is UTC else at.astimezone(UTC).toordinal()

    def _check_ints(self, row: tuple[Any, ...]) -> tuple[Any, ...] | None:
        """None when the integer columns are fine as they are, else the row with integral
        floats made ints; raises for anything else."""
        fixed: dict[str, int] | None = None
        for i in self._ints:
            value = row[i]
            if value is None or (type(value) is int and 0 <= value <= _INT64_MAX):
                continue
            name = self.target.columns[i]
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise InvalidRowError(f"{name} must be an integer, got {value!r}", row)
            if isinstance(value, float) and not value.is_integer():
                raise InvalidRowError(f"{name} must be an integer, got {value!r}", row)
            number = int(value)
            if number < 0 and i in self._counts:
                raise InvalidRowError(f"{name} is negative", row)
            if abs(number) > _INT64_MAX:
                raise InvalidRowError(f"{name} is out of range", row)
            if number != value or type(value) is not int:
                fixed = {**(fixed or {}), name: number}
        if fixed is None:
            return None
        return row._replace(**fixed)  # type: ignore[attr-defined,no-any-return]


def _column_kinds(target: CopyTarget) -> dict[str, type]:
    """``int``, ``float`` or ``str`` (or ``datetime``) per column, from the row type's
    annotations (the one place the row's types are written)."""
    hints = typing.get_type_hints(target.row_type)
    kinds: dict[str, type] = {}
    for column in target.columns:
        args = [a for a in typing.get_args(hints[column]) if a is not type(None)]
        kinds[column] = args[0] if args else hints[column]
    return kinds


def tick_choices() -> dict[str, frozenset[str]]:
    """The allowed ``tick_type`` values (the tables' CHECK constraint)."""
    return {"tick_type": _TICK_TYPES}
