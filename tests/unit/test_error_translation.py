"""Driver errors become alc_data.errors types by class and SQLSTATE, never by message text."""

from __future__ import annotations

import asyncpg
import pytest

from alc_data.db.translate import translate
from alc_data.errors import DatabaseUnavailableError, DataError, DuplicateError


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
