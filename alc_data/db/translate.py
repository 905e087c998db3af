"""Translating driver errors into :mod:`alc_data.errors` types, by SQLSTATE (never by text).

Both SQLAlchemy's wrapped errors (``DBAPIError`` whose ``orig`` carries ``sqlstate``) and raw
asyncpg errors (the COPY path) arrive here. Callers use ``raise translate(exc) from exc`` or the
:func:`translating` context manager.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import ParamSpec, TypeVar

import asyncpg
from sqlalchemy.exc import DBAPIError, StatementError

from alc_data.errors import (
    AlcDataError,
    CheckViolationError,
    DatabaseUnavailableError,
    DataError,
    DuplicateError,
    InternalError,
    PartitionMissingError,
    SchemaError,
    UnknownReferenceError,
)

#: SQLSTATE classes / codes that mean "the database cannot be reached right now".
_UNAVAILABLE_CLASSES = ("08",)
#: 55P03 (lock_not_available): a lock wait ran out of its lock_timeout, e.g. a partition
#: creation behind a long transaction; the same write succeeds later.
_UNAVAILABLE_CODES = frozenset({"57P01", "57P02", "57P03", "53300", "53400", "55P03"})
#: asyncpg's client-side "invalid input for query argument" (an InterfaceError subclass).
_DRIVER_DATA_ERROR = asyncpg.exceptions._base.DataError
#: Transient conflicts a caller may simply retry.
RETRYABLE_CODES = frozenset({"40001", "40P01"})


def sqlstate(exc: BaseException) -> str | None:
    """The SQLSTATE of ``exc`` or of the driver error it wraps, if any."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        code = getattr(current, "sqlstate", None)
        if isinstance(code, str) and code:
            return code
        nxt = getattr(current, "orig", None) if isinstance(current, DBAPIError) else None
        current = nxt if isinstance(nxt, BaseException) else current.__cause__
    return None


def _constraint(exc: BaseException) -> str | None:
    current: BaseException | None = exc
    while current is not None:
        name = getattr(current, "constraint_name", None)
        if isinstance(name, str):
            return name
        current = current.__cause__
    return None


def is_connection_failure(exc: BaseException) -> bool:
    """True when ``exc`` (or what caused it) means the connection to the database is gone."""
    current: BaseException | None = exc
    while current is not None:
        if isinstance(current, _DRIVER_DATA_ERROR):
            return False  # an InterfaceError by class, but about a value, not the connection
        if isinstance(
            current,
            OSError
            | asyncio.TimeoutError
            | asyncpg.exceptions.ConnectionDoesNotExistError
            | asyncpg.exceptions.PostgresConnectionError
            # client-side connection state: closed, or released back to the pool mid-use
            | asyncpg.exceptions.InterfaceError,
        ):
            return True
        if isinstance(current, DBAPIError) and current.connection_invalidated:
            return True
        current = current.__cause__
    return False


def _driver_refused_a_value(exc: BaseException) -> bool:
    current: BaseException | None = exc
    while current is not None:
        if isinstance(current, _DRIVER_DATA_ERROR):
            return True
        current = current.__cause__
    return False


def translate(exc: BaseException) -> AlcDataError:
    """The :mod:`alc_data.errors` exception that describes ``exc``.

    ``23505`` -> DuplicateError, ``23503`` -> UnknownReferenceError, ``23514`` ->
    CheckViolationError (PartitionMissingError when no constraint is named), ``22xxx``/``23xxx``
    and the driver's own ``asyncpg.DataError`` -> DataError, ``42P01``/``42703``/``3F000`` ->
    SchemaError, connection failures -> DatabaseUnavailableError, any other error without a
    SQLSTATE -> InternalError. An ``AlcDataError`` (for example a NaiveDatetimeError raised
    while binding a parameter) is returned unchanged.
    """
    if isinstance(exc, AlcDataError):
        return exc
    if isinstance(exc, StatementError) and isinstance(exc.orig, AlcDataError):
        return exc.orig
    code = sqlstate(exc)
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    if code is None:
        if _driver_refused_a_value(exc):  # before anything was sent
            return DataError(text)
        if is_connection_failure(exc):
            return DatabaseUnavailableError(f"database unavailable: {text}")
        # Anything else without a SQLSTATE (a TypeError, an AttributeError, a driver API
        # change) is not the data's fault: never a reason to reject rows.
        return InternalError(f"internal error: {type(exc).__name__}: {text}")
    if code == "23505":
        return DuplicateError(text)
    if code == "23503":
        return UnknownReferenceError(text)
    if code == "23514":
        constraint = _constraint(exc)
        if constraint is None:
            return PartitionMissingError(text)
        return CheckViolationError(text, constraint)
    if code.startswith(_UNAVAILABLE_CLASSES) or code in _UNAVAILABLE_CODES:
        return DatabaseUnavailableError(f"database unavailable ({code}): {text}")
    if code in {"42P01", "42703", "3F000", "42883"}:
        return SchemaError(f"schema problem ({code}): {text}; is the database migrated?")
    if code.startswith(("22", "23")):
        return DataError(f"({code}) {text}")
    return AlcDataError(f"database error ({code}): {text}")


@contextmanager
def translating() -> Iterator[None]:
    """Re-raise driver errors inside the block as :mod:`alc_data.errors` types."""
    try:
        yield
    except (DBAPIError, StatementError, asyncpg.PostgresError, OSError) as exc:
        raise translate(exc) from exc
    except asyncpg.InterfaceError as exc:
        raise translate(exc) from exc


P = ParamSpec("P")
T = TypeVar("T")


def translated(function: Callable[P, Awaitable[T]]) -> Callable[P, Awaitable[T]]:
    """Decorate a public coroutine function so that driver errors leave it translated
    (:func:`translating`): a caller sees ``DatabaseUnavailableError`` or ``SchemaError``,
    never ``ConnectionRefusedError`` or SQLAlchemy's ``ProgrammingError``."""

    @functools.wraps(function)
    async def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
        with translating():
            return await function(*args, **kwargs)

    return wrapper
