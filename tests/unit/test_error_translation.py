"""Driver errors become alc_data.errors types by class and SQLSTATE, never by message text."""

from __future__ import annotations

import asyncpg
import pytest

from alc_data.db.translate import translate
from alc_data.errors import DatabaseUnavailableError, DataError, DuplicateError, InternalError


@pytest.mark.parametrize(
    "exc",
    [
        asyncpg.exceptions.InterfaceError("connection has been released back to the pool"),
        asyncpg.exceptions.ConnectionDoesNotExistError("connection was closed"),
        ConnectionResetError(104, "reset"),
    ],
)
def test_connection_failures_are_unavailable(exc: BaseException) -> None:
    assert isinstance(translate(exc), DatabaseUnavailableError)


def test_sqlstate_decides_not_the_message() -> None:
    dup = asyncpg.exceptions.UniqueViolationError("anything at all")
    assert isinstance(translate(dup), DuplicateError)
    bad = asyncpg.exceptions.NumericValueOutOfRangeError("duplicate key value violates")
    translated = translate(bad)
    assert isinstance(translated, DataError) and not isinstance(translated, DuplicateError)


@pytest.mark.parametrize(
    "exc",
    [
        TypeError("copy_records_to_table() got an unexpected keyword argument"),
        AttributeError("'NoneType' object has no attribute 'fetch'"),
        KeyError("column"),
    ],
)
def test_programming_errors_are_internal_not_bad_data(exc: BaseException) -> None:
    translated = translate(exc)
    assert isinstance(translated, InternalError) and not isinstance(translated, DataError)


def test_the_drivers_own_data_error_is_bad_data_not_a_lost_connection() -> None:
    # asyncpg's client-side DataError is an InterfaceError by class
    refused = asyncpg.exceptions._base.DataError("invalid input for query argument $1")
    assert isinstance(refused, asyncpg.exceptions.InterfaceError)
    translated = translate(refused)
    assert isinstance(translated, DataError) and not isinstance(translated, InternalError)
