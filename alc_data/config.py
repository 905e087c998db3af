"""Settings: the only module that reads the environment.

The environment names of the original documentation work as written (``DB_HOST``,
``COLLECTION_INTERVAL_MS``, ...); new settings use the ``ALC_`` prefix. Settings are built on
demand with :func:`load_settings`, never at import time. A bad value raises one
:class:`~alc_data.errors.ConfigError` that names the variable; secrets never appear in a repr,
a log line or an error message.
"""

from __future__ import annotations

import re
from contextvars import ContextVar
from enum import StrEnum
from pathlib import Path
from typing import Any

import platformdirs
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from alc_data.errors import ConfigError

#: Fields whose input value must never be echoed in an error message.
_SECRET_VARIABLES = frozenset({"DB_PASSWORD", "ALC_DATABASE_URL"})
_POSTGRES_DRIVERS = frozenset({"", "asyncpg", "psycopg", "psycopg2", "psycopg_async"})


class Backend(StrEnum):
    """Storage backend chosen by the migrations (``ALC_BACKEND``)."""

    AUTO = "auto"
    TIMESCALE = "timescale"
    POSTGRES = "postgres"


#: False while :func:`default_settings` builds: the sections then read no environment.
_READ_ENVIRONMENT: ContextVar[bool] = ContextVar("alc_data_read_environment", default=True)


class _Section(BaseSettings):
    """A group of settings read from exact environment names (aliases), case-insensitively.

    Only the documented names are read: a field is never populated by its Python name, so
    generic variables that shells and platforms set (``USER``, ``HOST``, ``PORT``, ``NAME``,
    ...) are not mistaken for settings.
    """

    model_config = SettingsConfigDict(
        env_prefix="",
        case_sensitive=False,
        extra="ignore",
        frozen=True,
        populate_by_name=False,
        validate_by_name=False,
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        if not _READ_ENVIRONMENT.get():  # default_settings(): the documented defaults only
            return (init_settings,)
        return (init_settings, env_settings, dotenv_settings, file_secret_settings)


class DatabaseSettings(_Section):
    """Where the data lives. With neither ``ALC_DATABASE_URL`` nor ``DB_HOST``, the embedded
    PostgreSQL under ``ALC_DATA_DIR`` is used."""

    url: SecretStr | None = Field(None, alias="ALC_DATABASE_URL")
    host: str | None = Field(None, alias="DB_HOST", min_length=1)
    port: int = Field(5432, alias="DB_PORT", ge=1, le=65535)
    name: str = Field("options_arbitrage", alias="DB_NAME", min_length=1)
    user: str = Field("trading_user", alias="DB_USER", min_length=1)
    password: SecretStr | None = Field(None, alias="DB_PASSWORD")
    backend: Backend = Field(Backend.AUTO, alias="ALC_BACKEND")
    retention_days: int | None = Field(None, alias="ALC_RETENTION_DAYS", gt=0)
    #: The source reads use when several hold data for what is asked (a ``data_sources``
    #: name); unset: such a read raises :class:`~alc_data.errors.AmbiguousSourceError`.
    default_source: str | None = Field(None, alias="ALC_DEFAULT_SOURCE", min_length=1)
    #: The database ``alc-data demo`` uses on the embedded or configured server (never the
    #: configured database itself).
    demo_database: str = Field(
        "alc_demo", alias="ALC_DEMO_DATABASE", min_length=1, max_length=63, pattern=r"^\w+$"
    )
    data_dir: Path = Field(
        default_factory=lambda: Path(platformdirs.user_data_dir("alc-data")), alias="ALC_DATA_DIR"
    )

    @field_validator("url")
    @classmethod
    def _parse_url(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value():
            return None
        try:
            url = make_url(value.get_secret_value())
            port = url.port
        except (ArgumentError, ValueError):  # ValueError: a port that is not a number
            raise ValueError("is not a parseable database URL") from None
        if port is not None and not 1 <= port <= 65535:
            raise ValueError(f"has port {port}; a port is 1-65535")
        backend, _, driver = url.drivername.partition("+")
        if backend not in ("postgresql", "postgres") or driver not in _POSTGRES_DRIVERS:
            raise ValueError(
                f"must be a postgresql:// URL (drivers: asyncpg, psycopg), not {url.drivername}://"
            )
        return value

    @property
    def is_configured(self) -> bool:
        """True when a server is configured; False means "use the embedded PostgreSQL"."""
        return self.url is not None or self.host is not None

    def sqlalchemy_url(self, driver: str = "asyncpg") -> URL:
        """The configured server as an SQLAlchemy URL using ``driver``.

        Raises:
            ConfigError: no server is configured (the caller should start the embedded one).
        """
        if self.url is not None:
            url = make_url(self.url.get_secret_value())
        elif self.host is not None:
            url = URL.create(
                "postgresql",
                username=self.user,
                password=self.password.get_secret_value() if self.password else None,
                host=self.host,
                port=self.port,
                database=self.name,
            )
        else:
            raise ConfigError("no database configured: set ALC_DATABASE_URL or DB_HOST")
        return with_driver(url, driver)


#: Query parameters of a database URL that carry a secret (libpq and asyncpg spellings).
_SECRET_QUERY = re.compile(r"pass|secret|token", re.IGNORECASE)
_MASK = "***"


def redact_url(url: URL | str) -> str:
    """``url`` as text with every secret masked: the password of the user info and any query
    parameter that carries one (``?password=``, ``?sslpassword=``, ...). What every output and
    log line shows of a database URL."""
    if isinstance(url, str):
        try:
            url = make_url(url)
        except ArgumentError:
            return _MASK  # not a URL: nothing of it can be shown safely
    shown = url.set(query={}).render_as_string(hide_password=True)
    pairs = [
        f"{key}={_MASK if _SECRET_QUERY.search(key) else value}"
        for key, values in url.query.items()
        for value in ((values,) if isinstance(values, str) else values)
    ]
    return f"{shown}?{'&'.join(pairs)}" if pairs else shown


def with_driver(url: URL | str, driver: str) -> URL:
    """``url`` with its PostgreSQL driver replaced (``asyncpg``, ``psycopg``)."""
    url = make_url(url) if isinstance(url, str) else url
    return url.set(drivername=f"postgresql+{driver}")


class CollectionSettings(_Section):
    """How the collector and the loader choose and sample contracts."""

    interval_ms: int = Field(100, alias="COLLECTION_INTERVAL_MS", gt=0)
    expiry_range_days: int = Field(60, alias="EXPIRY_RANGE_DAYS", ge=0)
    strike_range_percent: float = Field(0.20, alias="ALC_STRIKE_RANGE_PERCENT", gt=0, le=1)
    max_market_data_lines: int = Field(100, alias="ALC_MAX_MARKET_DATA_LINES", gt=0)
    include_greeks: bool = Field(True, alias="ALC_INCLUDE_GREEKS")
    batch_size: int = Field(1000, alias="ALC_BATCH_SIZE", gt=0)
    copy_chunk_rows: int = Field(50_000, alias="ALC_COPY_CHUNK_ROWS", gt=0)
    write_timeout_seconds: float = Field(10.0, alias="ALC_WRITE_TIMEOUT_SECONDS", gt=0, le=3600)


class ValidationSettings(_Section):
    """Thresholds used by the validator and the quality report."""

    max_spread_percent: float = Field(0.10, alias="MAX_SPREAD_PERCENT", gt=0, le=1)
    stale_after_seconds: int = Field(300, alias="ALC_STALE_AFTER_SECONDS", gt=0)
    gap_seconds: int = Field(300, alias="ALC_GAP_SECONDS", gt=0)
    risk_free_rate: float = Field(0.04, alias="ALC_RISK_FREE_RATE", ge=-0.1, le=1)


class IBSettings(_Section):
    """Where Interactive Brokers (TWS, IB Gateway or the simulator) listens."""

    host: str = Field("127.0.0.1", alias="ALC_IB_HOST", min_length=1)
    port: int = Field(7497, alias="ALC_IB_PORT", ge=1, le=65535)
    client_id: int = Field(1, alias="ALC_IB_CLIENT_ID", ge=0)
    request_timeout_seconds: float = Field(30.0, alias="ALC_IB_TIMEOUT_SECONDS", gt=0, le=3600)


class Settings(BaseModel):
    """All settings, in sections. Build with :func:`load_settings`."""

    model_config = ConfigDict(frozen=True)

    database: DatabaseSettings
    collection: CollectionSettings
    validation: ValidationSettings
    ib: IBSettings


_SECTIONS: dict[str, type[_Section]] = {
    "database": DatabaseSettings,
    "collection": CollectionSettings,
    "validation": ValidationSettings,
    "ib": IBSettings,
}


def setting_names() -> frozenset[str]:
    """Every environment name alc-data reads (the names :func:`load_settings` accepts)."""
    return frozenset(
        field.alias
        for section in _SECTIONS.values()
        for field in section.model_fields.values()
        if field.alias
    )


def load_settings(**overrides: Any) -> Settings:
    """Read the settings from the environment (the command line's and
    :meth:`~alc_data.db.database.Database.from_settings`'s one explicit step; library
    constructors never call it).

    Args:
        **overrides: values by environment name (``DB_HOST="db"``), taking precedence over the
            environment; handy in tests and for the command line.

    Raises:
        ConfigError: one or more values are invalid, or an override names no setting; the
            message names each variable.
    """
    return _build(overrides)


def default_settings(**overrides: Any) -> Settings:
    """The documented defaults (and ``overrides``, by environment name), never reading the
    environment: what a library object uses when its caller passes no Settings.

    Raises:
        ConfigError: as :func:`load_settings`.
    """
    token = _READ_ENVIRONMENT.set(False)
    try:
        return _build(overrides)
    finally:
        _READ_ENVIRONMENT.reset(token)


def _build(overrides: dict[str, Any]) -> Settings:
    unknown = sorted(set(overrides) - setting_names())
    if unknown:
        raise ConfigError(
            f"unknown settings: {', '.join(unknown)} (known: {', '.join(sorted(setting_names()))})"
        )
    built: dict[str, _Section] = {}
    problems: list[str] = []
    for name, section in _SECTIONS.items():
        aliases = {f.alias for f in section.model_fields.values() if f.alias}
        mine = {k: v for k, v in overrides.items() if k in aliases}
        try:
            built[name] = section(**mine)
        except ValidationError as exc:
            problems.extend(_describe(exc))
    if problems:
        raise ConfigError("invalid settings: " + "; ".join(problems))
    return Settings.model_validate(built)


def _describe(exc: ValidationError) -> list[str]:
    """One line per error, naming the environment variable and never echoing a secret."""
    lines = []
    for error in exc.errors(include_url=False):
        variable = str(error["loc"][0]).upper() if error["loc"] else "?"
        message = str(error["msg"]).removeprefix("Value error, ")
        if variable not in _SECRET_VARIABLES and "input" in error:
            message += f" (got {error['input']!r})"
        lines.append(f"{variable}: {message}")
    return lines
