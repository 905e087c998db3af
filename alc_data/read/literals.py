"""SQL literals for the columnar read path, rendered from typed Python values.

ADBC's PostgreSQL driver streams a result as Arrow record batches only through ``COPY (query)
TO STDOUT``, and COPY takes no bind parameters; the cursor fallback (``DECLARE ... CURSOR``)
takes none either. So the reader renders its few parameters (ids, times, names) as literals.
Only these typed renderers produce them: an int is an int, a time is an aware UTC timestamptz,
a string is single-quoted with quotes doubled (``standard_conforming_strings`` is on from
PostgreSQL 9.1, and the reader forces it on for its sessions), so no value can end the literal.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from decimal import Decimal

from alc_data.errors import DataError, NaiveDatetimeError


def int_literal(value: int) -> str:
    """An integer literal (bools and other types are refused)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise DataError(f"expected an integer, got {value!r}")
    return str(value)


def float_literal(value: float) -> str:
    """A finite double precision literal."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise DataError(f"expected a finite number, got {value!r}")
    return f"CAST({float(value)!r} AS double precision)"


def decimal_literal(value: Decimal) -> str:
    """A finite numeric literal."""
    if not isinstance(value, Decimal) or not value.is_finite():
        raise DataError(f"expected a finite Decimal, got {value!r}")
    return f"CAST('{value}' AS numeric)"


def text_literal(value: str) -> str:
    """A single-quoted string literal; NUL (which PostgreSQL text cannot hold) is refused."""
    if not isinstance(value, str):
        raise DataError(f"expected a string, got {value!r}")
    if "\x00" in value:
        raise DataError("a string sent to the database cannot contain NUL")
    return "'" + value.replace("'", "''") + "'"


def time_literal(value: datetime, name: str = "time") -> str:
    """An aware datetime as a UTC ``timestamptz`` literal (microseconds kept).

    Raises:
        NaiveDatetimeError: ``value`` has no time zone.
    """
    if not isinstance(value, datetime):
        raise DataError(f"{name} must be a datetime, got {value!r}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise NaiveDatetimeError(f"{name}={value.isoformat()} is naive (attach a time zone)")
    utc = value - value.utcoffset()  # type: ignore[operator]
    return f"TIMESTAMPTZ '{utc.replace(tzinfo=None).isoformat(sep=' ')}+00'"


def date_literal(value: date) -> str:
    """A ``date`` literal."""
    if isinstance(value, datetime) or not isinstance(value, date):
        raise DataError(f"expected a date, got {value!r}")
    return f"DATE '{value.isoformat()}'"


def interval_literal(value: timedelta) -> str:
    """A positive ``interval`` literal, exact to the microsecond."""
    if not isinstance(value, timedelta) or value <= timedelta(0):
        raise DataError(f"expected a positive timedelta, got {value!r}")
    micros = (value.days * 86_400 + value.seconds) * 1_000_000 + value.microseconds
    return f"(INTERVAL '1 microsecond' * {micros})"


def int_list_literal(values: Iterable[int]) -> str:
    """A ``bigint[]`` literal of the given integers (empty allowed)."""
    items = [int_literal(v) for v in values]
    return f"CAST(ARRAY[{', '.join(items)}] AS bigint[])"
