"""``alc-data demo`` end to end (a short variant), and the completeness of every ``--help``."""

from __future__ import annotations

import argparse
import json
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL

from alc_data.cli import build_parser, main
from alc_data.config import with_driver
from alc_data.db import migrate

SHORT = ["demo", "--symbols", "SPY", "--collect-seconds", "3", "--days", "1",
         "--max-contracts", "6", "--json"]  # fmt: skip

pytestmark = pytest.mark.timeout(240)


SECRETS = ("UserInfoS3cret", "QueryS3cret")


def _demo(capsys: pytest.CaptureFixture[str]) -> dict:  # type: ignore[type-arg]
    assert main(SHORT) == 0
    captured = capsys.readouterr()
    assert "collecting SPY" in captured.err  # progress goes to stderr with --json
    for secret in SECRETS:  # a password in the URL (user info or query) is never shown
        assert secret not in captured.out + captured.err
    summary: dict[str, Any] = json.loads(captured.out)
    return summary


def _check_summary(summary: dict) -> None:  # type: ignore[type-arg]
    stats = summary["stats"]
    assert stats["option_chains"] >= 6
    assert stats["market_data_ticks"] > 0 and stats["stock_data_ticks"] > 0
    assert stats["option_bars"] > 0 and stats["stock_bars"] > 0
    assert stats["data_quality_metrics"] > 0
    assert summary["collection"]["ticks_inserted"] == summary["collection"]["ticks_collected"]
    quality = summary["quality"]
    assert quality["total_records"] > 0 and quality["price_data_coverage"] > 90
    snapshot = summary["snapshot"]
    assert snapshot["symbol"] == "SPY" and snapshot["underlying"] is not None
    assert snapshot["quotes"] and all(q["bid"] <= q["ask"] for q in snapshot["quotes"])
    report = Path(summary["report"])  # the demo writes the HTML report and says where
    assert report.name == "demo-report.html"
    html = report.read_text(encoding="utf-8")
    assert 'id="chart-coverage-SPY"' in html and 'id="chart-price_path-SPY"' in html


@pytest.fixture
def demo_database(admin_url: URL, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A demo database name of this test's own (the shared server runs other tests too)."""
    name = f"alc_demo_{uuid.uuid4().hex[:10]}"
    monkeypatch.setenv("ALC_DEMO_DATABASE", name)
    yield name
    admin = create_engine(with_driver(admin_url, "psycopg"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _rows(url: URL) -> dict[str, dict[str, int]]:
    """Rows per source name and table."""
    engine = create_engine(with_driver(url, "psycopg"))
    out: dict[str, dict[str, int]] = {}
    with engine.connect() as conn:
        for table in ("market_data_ticks", "stock_data_ticks", "option_bars", "stock_bars",
                      "history_requests"):  # fmt: skip
            for name, n in conn.execute(
                text(
                    f"SELECT s.name, count(*) FROM {table} t JOIN data_sources s "
                    "ON s.id = t.source_id GROUP BY 1"
                )
            ):
                out.setdefault(name, {})[table] = n
    engine.dispose()
    return out


def test_demo_twice_and_a_collect_each_keep_their_own_rows(
    database_factory: Callable[[], URL],
    demo_database: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    url = database_factory()  # the user's default database
    # the test server trusts local connections: both passwords are accepted and ignored
    secret = url.set(password=SECRETS[0], query={**url.query, "password": SECRETS[1]})
    monkeypatch.setenv("ALC_DATABASE_URL", secret.render_as_string(hide_password=False))
    first = _demo(capsys)
    assert demo_database in first["database"] and url.database not in first["database"]
    assert "***" in first["database"] and first["psql"].startswith('psql "postgresql://')
    _check_summary(first)
    assert first["history"]["history_requests"] > 0
    second = _demo(capsys)  # reuses the demo database
    _check_summary(second)
    assert second["history"]["history_requests"] == 0
    assert second["history"]["skipped_complete"] > 0
    assert second["stats"]["option_bars"] == first["stats"]["option_bars"]
    assert second["stats"]["market_data_ticks"] > first["stats"]["market_data_ticks"]
    assert migrate.database_revision(url) is None  # the default database was never touched

    # A simulator collect into the default database.
    argv = ["collect", "SPY", "--sim", "--duration", "2s", "--max-contracts", "4", "--json"]
    assert main(["db", "upgrade"]) == 0 and main(argv) == 0
    collected = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    demo_url = url.set(database=demo_database)
    default_rows, demo_rows = _rows(url), _rows(demo_url)
    assert set(default_rows) == {"simulator"} and set(demo_rows) == {"simulator"}
    assert default_rows["simulator"]["market_data_ticks"] == (collected["option_ticks"]["inserted"])
    assert "option_bars" not in default_rows["simulator"]  # no demo history leaked in
    assert "history_requests" not in default_rows["simulator"]
    assert demo_rows["simulator"]["market_data_ticks"] == second["stats"]["market_data_ticks"]

    # --reset starts the demo afresh: its history is requested again.
    assert main([*SHORT, "--reset"]) == 0
    fresh = json.loads(capsys.readouterr().out)
    assert fresh["history"]["history_requests"] > 0
    assert fresh["stats"]["market_data_ticks"] < second["stats"]["market_data_ticks"]


@pytest.fixture
def embedded_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    for name in ("ALC_DATABASE_URL", "DB_HOST"):
        monkeypatch.delenv(name, raising=False)
    tmp_path.chmod(0o755)
    monkeypatch.setenv("ALC_DATA_DIR", str(tmp_path / "data"))
    yield tmp_path / "data"


def test_demo_on_the_embedded_default(
    embedded_only: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    summary = _demo(capsys)
    _check_summary(summary)
    assert str(embedded_only / "pgdata") in summary["database"]
    assert summary["psql"].startswith("alc-data db psql")
    assert (embedded_only / "pgdata" / "PG_VERSION").exists()


def test_demo_text_summary(
    database_factory: Callable[[], URL],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    url = database_factory()
    rendered = url.render_as_string(hide_password=False)
    assert main([*SHORT[:-1], "--database-url", rendered]) == 0
    out = capsys.readouterr().out
    for heading in ("== summary", "stored", "quality", "snapshot", "data", "query"):
        assert heading in out
    assert url.password is None or url.password not in out


def _commands(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()) -> Iterator[
    tuple[tuple[str, ...], argparse.ArgumentParser]
]:  # fmt: skip
    yield path, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _commands(sub, (*path, name))


def test_every_command_has_complete_help() -> None:
    commands = dict(_commands(build_parser()))
    expected = {
        ("db", "upgrade"), ("db", "downgrade"), ("db", "current"), ("db", "check"),
        ("db", "status"), ("db", "maintain"), ("db", "psql"), ("demo",), ("collect",),
        ("load-history",), ("validate",), ("stats",), ("report",), ("sim", "serve"),
        ("sim", "planted"), ("import",), ("scan",),
    }  # fmt: skip
    assert expected <= set(commands)
    for path, parser in commands.items():
        for action in parser._actions:
            if isinstance(action, argparse._HelpAction | argparse._SubParsersAction):
                continue
            assert action.help, f"alc-data {' '.join(path)}: {action.dest} has no help"
        leaf = not any(isinstance(a, argparse._SubParsersAction) for a in parser._actions)
        if leaf and path:
            assert "--json" in parser.format_help() or path == ("db", "psql") or path[0] == "sim", (
                path
            )


def test_ctrl_c_during_collection_stops_cleanly_and_keeps_every_accepted_row(
    database_factory: Callable[[], URL], tmp_path: Path
) -> None:
    import os
    import re
    import signal
    import subprocess
    import sys
    import time

    from sqlalchemy import create_engine, text

    from alc_data.config import with_driver

    url = database_factory()
    env = {**os.environ, "ALC_DATABASE_URL": url.render_as_string(hide_password=False),
           "ALC_DATA_DIR": str(tmp_path)}  # fmt: skip
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "alc_data.cli",
            *SHORT,
            "--collect-seconds",
            "60",
            "--database-url",
            url.render_as_string(hide_password=False),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        # A shell's background job would ignore SIGINT; a user's terminal does not.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    assert proc.stderr is not None
    lines: list[str] = []
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        lines.append(line)
        if re.search(r"[1-9]\d* stored", line):  # collecting, rows already stored
            break
    proc.send_signal(signal.SIGINT)
    _, rest = proc.communicate(timeout=60)
    output = "".join(lines) + rest
    assert proc.returncode == 130, output
    assert "interrupted" in output
    final = re.search(
        r"collected\s+(\d+) of (\d+) accepted rows stored, (\d+) in the spool", output
    )
    assert final, output
    stored, accepted, spooled = map(int, final.groups())
    assert stored == accepted > 0 and spooled == 0
    engine = create_engine(with_driver(url, "psycopg"))
    with engine.connect() as conn:
        in_db = conn.scalar(
            text("SELECT (SELECT count(*) FROM market_data_ticks) + "
                 "(SELECT count(*) FROM stock_data_ticks)")
        )  # fmt: skip
    engine.dispose()
    assert in_db == accepted
