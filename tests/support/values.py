"""Narrowing helpers for values a test expects to be there."""

from __future__ import annotations

from typing import TypeVar

T = TypeVar("T")


def present(value: T | None, what: object = "value") -> T:
    """``value``, failing the test (not a later ``TypeError``) when it is None."""
    assert value is not None, f"{what} is None"
    return value
