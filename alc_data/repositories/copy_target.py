"""What a bulk writer writes: table, COPY columns, the row type and how a row is checked."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from alc_data.errors import InvalidRowError

_TICK_TYPES = frozenset({"REALTIME", "DELAYED", "FROZEN", "SNAPSHOT"})


@dataclass(frozen=True)
class CopyTarget:
    """A table the bulk writer fills with binary COPY.

    Attributes:
        table: the (partitioned) table.
        row_type: the NamedTuple whose fields are the COPY columns, in order.
        ref_column: the column referring to ``ref_table`` (checked before writing).
        key: the primary key (the ``ON CONFLICT`` target of the idempotent path).
        choices: columns restricted to a set of values (mirrors the CHECK constraints).
    """

    table: str
    row_type: type[tuple[Any, ...]]
    ref_column: str
    ref_table: str
    key: tuple[str, ...]
    choices: Mapping[str, frozenset[str]] = field(default_factory=dict)

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

    @property
    def float_indexes(self) -> tuple[int, ...]:
        """Positions of the numeric value columns (checked for NaN and infinity)."""
        skip = {self.ref_column, "time", *self.choices, "what_to_show", "bar_size"}
        return tuple(i for i, c in enumerate(self.columns) if c not in skip)


class RowChecker:
    """Turns an input row into a COPY-ready tuple, or raises :class:`InvalidRowError`.

    Kept to a handful of attribute reads and comparisons per row: it runs for every tick.
    """

    def __init__(self, target: CopyTarget) -> None:
        self.target = target
        self._row_type = target.row_type
        self._ref = target.ref_index
        self._time = target.time_index
        self._floats = target.float_indexes
        self._choices = tuple((target.columns.index(c), v) for c, v in target.choices.items())
        self._width = len(target.columns)

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

    def check(self, row: tuple[Any, ...]) -> int:
        """Validate ``row``; returns its UTC day number (days since 0001-01-01)."""
        ref = row[self._ref]
        if type(ref) is not int:
            raise InvalidRowError(f"{self.target.ref_column} must be an int", row)
        at = row[self._time]
        if not isinstance(at, datetime):
            raise InvalidRowError("time must be a datetime", row)
        tz = at.tzinfo
        if tz is None or at.utcoffset() is None:
            raise InvalidRowError("naive time (attach a time zone)", row)
        for i in self._floats:
            value = row[i]
            if value is None:
                continue
            try:
                finite = value - value == 0
            except TypeError:
                finite = False
            if not finite or isinstance(value, bool):
                raise InvalidRowError(f"{self.target.columns[i]} is not a finite number", row)
        for i, allowed in self._choices:
            if row[i] not in allowed:
                raise InvalidRowError(
                    f"{self.target.columns[i]} must be one of {sorted(allowed)}", row
                )
        return at.toordinal() if tz is UTC else at.astimezone(UTC).toordinal()


def tick_choices() -> dict[str, frozenset[str]]:
    """The allowed ``tick_type`` values (the tables' CHECK constraint)."""
    return {"tick_type": _TICK_TYPES}
