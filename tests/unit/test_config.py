"""Settings: every documented environment name, its validation, and secrecy of credentials."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest

from alc_data.config import Backend, load_settings
from alc_data.errors import ConfigError

ALL_NAMES = [
    "DB_HOST", "DB_PORT", "DB_NAME", "DB_USER", "DB_PASSWORD", "COLLECTION_INTERVAL_MS",
    "MAX_SPREAD_PERCENT", "EXPIRY_RANGE_DAYS", "ALC_DATABASE_URL", "ALC_BACKEND",
    "ALC_RETENTION_DAYS", "ALC_BATCH_SIZE", "ALC_COPY_CHUNK_ROWS", "ALC_STRIKE_RANGE_PERCENT",
    "ALC_MAX_MARKET_DATA_LINES", "ALC_INCLUDE_GREEKS", "ALC_STALE_AFTER_SECONDS",
    "ALC_GAP_SECONDS", "ALC_RISK_FREE_RATE", "ALC_IB_HOST", "ALC_IB_PORT", "ALC_IB_CLIENT_ID",
    "ALC_DATA_DIR",
]  # fmt: skip


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ALL_NAMES:
        monkeypatch.delenv(name, raising=False)


# (environment name, value set, path to the field, expected value)
CASES: list[tuple[str, str, str, Any]] = [
    ("DB_HOST", "db.internal", "database.host", "db.internal"),
    ("DB_PORT", "6543", "database.port", 6543),
    ("DB_NAME", "options", "database.name", "options"),
    ("DB_USER", "trader", "database.user", "trader"),
    ("COLLECTION_INTERVAL_MS", "250", "collection.interval_ms", 250),
    ("MAX_SPREAD_PERCENT", "0.25", "validation.max_spread_percent", 0.25),
    ("EXPIRY_RANGE_DAYS", "30", "collection.expiry_range_days", 30),
    ("ALC_BACKEND", "postgres", "database.backend", Backend.POSTGRES),
    ("ALC_RETENTION_DAYS", "90", "database.retention_days", 90),
    ("ALC_BATCH_SIZE", "500", "collection.batch_size", 500),
    ("ALC_COPY_CHUNK_ROWS", "10000", "collection.copy_chunk_rows", 10_000),
    ("ALC_STRIKE_RANGE_PERCENT", "0.1", "collection.strike_range_percent", 0.1),
    ("ALC_MAX_MARKET_DATA_LINES", "300", "collection.max_market_data_lines", 300),
    ("ALC_INCLUDE_GREEKS", "false", "collection.include_greeks", False),
    ("ALC_STALE_AFTER_SECONDS", "120", "validation.stale_after_seconds", 120),
    ("ALC_GAP_SECONDS", "60", "validation.gap_seconds", 60),
    ("ALC_RISK_FREE_RATE", "0.05", "validation.risk_free_rate", 0.05),
    ("ALC_IB_HOST", "10.0.0.5", "ib.host", "10.0.0.5"),
    ("ALC_IB_PORT", "4002", "ib.port", 4002),
    ("ALC_IB_CLIENT_ID", "7", "ib.client_id", 7),
    ("ALC_DATA_DIR", "/srv/alc", "database.data_dir", Path("/srv/alc")),
]


def _field(settings: Any, path: str) -> Any:
    for part in path.split("."):
        settings = getattr(settings, part)
    return settings


@pytest.mark.parametrize(("name", "value", "path", "expected"), CASES, ids=[c[0] for c in CASES])
def test_each_setting_is_read(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, path: str, expected: Any
) -> None:
    monkeypatch.setenv(name, value)
    assert _field(load_settings(), path) == expected


def test_db_password_is_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DB_HOST", "db")
    monkeypatch.setenv("DB_PASSWORD", "hunter2")
    settings = load_settings()
    assert settings.database.password is not None
    assert settings.database.password.get_secret_value() == "hunter2"
    url = settings.database.sqlalchemy_url()
    assert url.password == "hunter2"
    for shown in (repr(settings), str(settings), str(url), repr(url)):
        assert "hunter2" not in shown


def test_database_url_overrides_db_parts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DB_HOST", "ignored")
    monkeypatch.setenv("ALC_DATABASE_URL", "postgresql://u:s3cret@server:5433/market")
    settings = load_settings()
    url = settings.database.sqlalchemy_url("psycopg")
    assert (url.drivername, url.host, url.port, url.database) == (
        "postgresql+psycopg",
        "server",
        5433,
        "market",
    )
    assert "s3cret" not in repr(settings)


def test_defaults_match_the_documentation() -> None:
    s = load_settings()
    assert s.collection.interval_ms == 100
    assert s.validation.max_spread_percent == 0.10
    assert s.collection.expiry_range_days == 60
    assert s.collection.batch_size == 1000
    assert s.collection.copy_chunk_rows == 50_000
    assert s.collection.strike_range_percent == 0.20
    assert s.collection.max_market_data_lines == 100
    assert s.collection.include_greeks is True
    assert (s.validation.stale_after_seconds, s.validation.gap_seconds) == (300, 300)
    assert (s.ib.host, s.ib.port, s.ib.client_id) == ("127.0.0.1", 7497, 1)
    assert s.database.backend is Backend.AUTO and s.database.retention_days is None
    assert s.database.is_configured is False  # the embedded default


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("COLLECTION_INTERVAL_MS", "-5"),
        ("COLLECTION_INTERVAL_MS", "fast"),
        ("MAX_SPREAD_PERCENT", "0"),
        ("MAX_SPREAD_PERCENT", "1.5"),
        ("DB_PORT", "70000"),
        ("ALC_IB_PORT", "0"),
        ("ALC_DATABASE_URL", "not a url"),
        ("ALC_DATABASE_URL", "mysql://u:p@h/db"),
        ("ALC_BACKEND", "oracle"),
        ("ALC_RETENTION_DAYS", "-1"),
        ("ALC_BATCH_SIZE", "0"),
        ("ALC_STRIKE_RANGE_PERCENT", "2"),
    ],
)
def test_bad_value_names_the_variable(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError, match=name):
        load_settings()


def test_secrets_never_appear_in_errors_or_logs(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("ALC_DATABASE_URL", "mysql://trader:TopSecret@host/db")
    monkeypatch.setenv("DB_PASSWORD", "TopSecret")
    monkeypatch.setenv("DB_PORT", "-1")
    caplog.set_level(logging.DEBUG)
    with pytest.raises(ConfigError) as excinfo:
        load_settings()
    assert "ALC_DATABASE_URL" in str(excinfo.value) and "DB_PORT" in str(excinfo.value)
    assert "TopSecret" not in str(excinfo.value)
    assert "TopSecret" not in caplog.text


def test_unconfigured_database_has_no_url() -> None:
    with pytest.raises(ConfigError, match="ALC_DATABASE_URL"):
        load_settings().database.sqlalchemy_url()


def test_overrides_take_precedence(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ALC_IB_PORT", "4001")
    assert load_settings(ALC_IB_PORT=4002).ib.port == 4002


#: Every settings field's Python name that is not itself a documented name (EXPIRY_RANGE_DAYS
#: and MAX_SPREAD_PERCENT are): generic variables that shells and platforms set
#: (``USER``, zsh's ``HOST``, ``PORT`` on PaaS hosts) and that must never be read as settings.
GENERIC_NAMES = [
    "HOST", "PORT", "NAME", "USER", "PASSWORD", "URL", "BACKEND", "RETENTION_DAYS", "DATA_DIR",
    "INTERVAL_MS", "STRIKE_RANGE_PERCENT", "MAX_MARKET_DATA_LINES", "INCLUDE_GREEKS",
    "BATCH_SIZE", "COPY_CHUNK_ROWS", "STALE_AFTER_SECONDS", "GAP_SECONDS", "RISK_FREE_RATE",
    "CLIENT_ID",
]  # fmt: skip


@pytest.mark.parametrize("case", ["upper", "lower"])
def test_generic_variables_are_not_settings(monkeypatch: pytest.MonkeyPatch, case: str) -> None:
    for name in GENERIC_NAMES:
        monkeypatch.setenv(name.lower() if case == "lower" else name, "junk-value")
    s = load_settings()  # junk in every generic name: no error, and nothing of it is read
    assert s.database.is_configured is False  # HOST does not configure a server
    assert (s.database.user, s.database.name, s.database.port) == (
        "trading_user", "options_arbitrage", 5432,
    )  # fmt: skip
    assert s.database.password is None and s.database.url is None
    assert s.database.backend is Backend.AUTO
    assert (s.ib.host, s.ib.port, s.ib.client_id) == ("127.0.0.1", 7497, 1)
    assert s.collection.interval_ms == 100
    # positive control: the documented names are still read in the same environment
    monkeypatch.setenv("DB_USER", "trader")
    monkeypatch.setenv("DB_HOST", "db.internal")
    s = load_settings()
    assert (s.database.user, s.database.host, s.database.is_configured) == (
        "trader", "db.internal", True,
    )  # fmt: skip


def test_unknown_override_is_refused() -> None:
    with pytest.raises(ConfigError, match="DB_HOTS"):
        load_settings(DB_HOTS="db")
    with pytest.raises(ConfigError, match="host"):
        load_settings(host="db")  # a field's Python name is not a setting name
    assert load_settings(DB_HOST="db").database.host == "db"


def test_library_objects_never_read_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Only load_settings() and Database.from_settings() read the environment; a Database from a
    URL, a validator or a collector config built without Settings use the documented defaults."""
    from alc_data import Database, DataValidator
    from alc_data.config import default_settings

    monkeypatch.setenv("ALC_BATCH_SIZE", "7")
    monkeypatch.setenv("ALC_DATABASE_URL", "postgresql://u@db.example:5432/prod")
    assert load_settings().collection.batch_size == 7  # positive control: the variable is read
    assert default_settings().collection.batch_size == 1000
    assert default_settings(ALC_BATCH_SIZE=9).collection.batch_size == 9

    db = Database.from_url("postgresql://u@localhost:5432/mine")
    assert db.settings.collection.batch_size == 1000
    assert not db.settings.database.is_configured
    assert DataValidator(None).settings.collection.batch_size == 1000
    opted_in = Database.from_settings()
    assert opted_in.settings.collection.batch_size == 7
    assert opted_in.settings.database.is_configured
