"""The exceptions alc-data raises, grouped by what a caller can do about them.

Every exception derives from :class:`AlcDataError`. Database errors are translated at the
repository boundary by SQLSTATE code (never by message text) and chained with ``raise ... from``.
"""

from __future__ import annotations

from typing import Any


class AlcDataError(Exception):
    """Root of every error raised by alc-data."""


class ConfigError(AlcDataError):
    """A setting is missing or invalid; the message names the environment variable."""


class InvalidArgumentError(ConfigError, ValueError):
    """An argument (a command-line option or a Python parameter) is malformed or out of range;
    the message names it and says what is accepted."""


class DataError(AlcDataError):
    """Input data was rejected (bad value, naive datetime, unknown reference)."""


class UnknownSymbolError(DataError):
    """A symbol was asked for that nothing stored (or IB) knows."""


class NaiveDatetimeError(DataError, ValueError):
    """A datetime without a time zone reached a boundary that requires UTC-aware times."""


class InvalidRowError(DataError):
    """A row was rejected; ``row`` is the offending row and ``reason`` says why."""

    def __init__(self, reason: str, row: object = None) -> None:
        super().__init__(f"{reason}: {row!r}" if row is not None else reason)
        self.reason = reason
        self.row = row


class UnknownReferenceError(DataError):
    """A row refers to a contract or underlying that does not exist (SQLSTATE 23503)."""


class AmbiguousSourceError(DataError):
    """Several sources hold data for the instruments and window asked for, and neither the
    read nor ``ALC_DEFAULT_SOURCE`` chose one; ``sources`` lists their names."""

    def __init__(self, message: str, sources: list[str]) -> None:
        super().__init__(message)
        self.sources = sources


class UnknownSourceError(DataError):
    """A read named a source that ``data_sources`` does not hold."""


class DuplicateError(DataError):
    """A unique key was violated (SQLSTATE 23505)."""


class ScenarioError(DataError):
    """A simulator scenario file is unreadable, or its planted opportunities cannot be planted
    (unknown contract, legs that do not form the kind, entries that would interact)."""


class SchemaError(AlcDataError):
    """The database schema is missing, outdated or of an unexpected backend."""


class DataLossRefusedError(SchemaError):
    """A downgrade would delete stored rows and was not asked to (``--drop-data``)."""


class BackendUnavailableError(SchemaError):
    """The requested storage backend (for example TimescaleDB) cannot be used here."""


class DatabaseUnavailableError(AlcDataError):
    """The database cannot be reached; the operation may be retried later."""


class IBError(AlcDataError):
    """Interactive Brokers (or the simulator) answered with an error."""

    def __init__(self, code: int, message: str, req_id: int = -1) -> None:
        super().__init__(f"IB error {code}: {message}")
        self.code = code
        self.message = message
        self.req_id = req_id


class PacingViolationError(IBError):
    """IB error 162: a historical-data pacing rule was broken."""


class CheckViolationError(DataError):
    """A row broke a CHECK constraint (SQLSTATE 23514); ``constraint`` names it when known."""

    def __init__(self, message: str, constraint: str | None = None) -> None:
        super().__init__(message)
        self.constraint = constraint


class PartitionMissingError(CheckViolationError):
    """No partition accepts the row's time (SQLSTATE 23514 without a constraint name).

    Write paths create partitions before writing; this means one was dropped under them.
    """


class UnknownRowReferenceError(InvalidRowError, UnknownReferenceError):
    """A written row names a contract or underlying that does not exist."""


class RowsNotWrittenError(DatabaseUnavailableError):
    """A flush failed; ``kept`` rows stay queued in the writer and are retried on the next one."""

    def __init__(self, message: str, kept: int) -> None:
        super().__init__(message)
        self.kept = kept


class InternalError(AlcDataError):
    """An unexpected failure inside alc-data or its database driver: neither bad data nor an
    outage (a bug, a driver API change). Nothing is rejected because of it; see the log."""


class WriteFailedError(InternalError):
    """A flush failed for an internal reason; ``kept`` rows stay queued in the writer."""

    def __init__(self, message: str, kept: int) -> None:
        super().__init__(message)
        self.kept = kept


class BrokerUnavailableError(AlcDataError):
    """Interactive Brokers (TWS, IB Gateway or the simulator) cannot be reached right now."""


class LoadInterruptedError(BrokerUnavailableError):
    """The connection to IB was lost in the middle of a history load.

    Everything answered before is stored and recorded: running the same load again resumes
    it. ``stats`` holds the load's stats up to the interruption.
    """

    def __init__(self, message: str, stats: dict[str, Any]) -> None:
        super().__init__(message)
        self.stats = stats


class IBTimeoutError(BrokerUnavailableError):
    """IB (or the simulator) did not answer a request within its timeout."""


class CollectorFailedError(AlcDataError):
    """The collector stopped because a background task kept failing (see the log)."""


class ImportFormatError(DataError):
    """A vendor file cannot be imported at all (unknown format, missing columns, not a file of
    that format); bad records inside a readable file are reported per record instead."""
