"""Rows as JSON-ready dicts: ISO times and dates, floats for numerics."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID


def plain(value: Any) -> Any:
    """One value as JSON would carry it."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, UUID):
        return str(value)
    return value


def plain_rows(rows: Iterable[Any]) -> list[dict[str, Any]]:
    """SQLAlchemy rows as plain dicts."""
    return [{k: plain(v) for k, v in r._mapping.items()} for r in rows]
