"""``alc-data db ...`` against a real server and against the embedded default."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy.engine import URL

from alc_data.cli import build_parser, main
from alc_data.db import migrate

HEAD = migrate.heads()[0]


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = main(list(argv))
    return code, capsys.readouterr().out


def _json(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict]:  # type: ignore[type-arg]
    code, out = _run(capsys, *argv, "--json")
    return code, json.loads(out)


@pytest.fixture
def fresh_url(database_factory: Callable[[], URL], monkeypatch: pytest.MonkeyPatch) -> URL:
    url = database_factory()
    monkeypatch.setenv("ALC_DATABASE_URL", url.render_as_string(hide_password=False))
    return url


def test_db_commands_on_a_server(fresh_url: URL, capsys: pytest.CaptureFixture[str]) -> None:
    code, status = _json(capsys, "db", "status")
    assert code == 0 and status["revision"] is None and "upgrade" in status["note"]

    code, up = _json(capsys, "db", "upgrade")
    assert code == 0 and up["revision"] == HEAD and up["backend"] == "postgres"

    code, current = _json(capsys, "db", "current")
    assert current == {**current, "revision": HEAD, "up_to_date": True}

    code, check = _json(capsys, "db", "check")
    assert code == 0 and check["clean"] is True

    code, status = _json(capsys, "db", "status")
    assert status["backend"] == "postgres"
    assert {t["hypertable_name"] for t in status["time_series"]} == {
        "market_data_ticks",
        "stock_data_ticks",
        "option_bars",
        "stock_bars",
    }
    assert [r["rollup"] for r in status["rollups"]] == [
        "market_data_1min",
        "market_data_5min",
        "stock_data_1min",
    ]
    assert all(t["rows"] == 0 for t in status["tables"])

    code, text_out = _run(capsys, "db", "status")
    assert "backend    postgres" in text_out and "market_data_ticks" in text_out

    code, down = _json(capsys, "db", "downgrade", "base")
    assert code == 0 and down["revision"] is None


def test_bad_revision_is_a_clean_error(fresh_url: URL, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["db", "upgrade", "nonexistent"]) == 1
    assert "nonexistent" in capsys.readouterr().err


def test_bad_setting_exits_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ALC_DATABASE_URL", "mysql://x@y/z")
    assert main(["db", "status"]) == 2
    assert "ALC_DATABASE_URL" in capsys.readouterr().err


def test_embedded_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in ("ALC_DATABASE_URL", "DB_HOST"):
        monkeypatch.delenv(name, raising=False)
    tmp_path.chmod(0o755)
    monkeypatch.setenv("ALC_DATA_DIR", str(tmp_path / "data"))
    code, up = _json(capsys, "db", "upgrade")
    assert code == 0 and up["backend"] == "postgres"
    assert str(tmp_path / "data" / "pgdata") in up["database"]
    code, status = _json(capsys, "db", "status")
    assert status["revision"] == HEAD and status["database"] == "options_arbitrage"
    code, check = _json(capsys, "db", "check")
    assert check["clean"] is True
    assert (tmp_path / "data" / "pgdata" / "PG_VERSION").exists()


def test_help_is_complete(capsys: pytest.CaptureFixture[str]) -> None:
    parser = build_parser()
    with pytest.raises(SystemExit):
        parser.parse_args(["db", "--help"])
    out = capsys.readouterr().out
    for action in ("upgrade", "downgrade", "current", "check", "status"):
        assert action in out


def test_status_row_estimates_mix_statistics_and_counts(
    fresh_url: URL, capsys: pytest.CaptureFixture[str]
) -> None:
    from sqlalchemy import create_engine, text

    from alc_data.config import with_driver

    assert main(["db", "upgrade"]) == 0
    capsys.readouterr()
    engine = create_engine(with_driver(fresh_url, "psycopg"), isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        spy = conn.scalar(
            text("INSERT INTO underlying_securities (symbol) VALUES ('SPY') RETURNING id")
        )
        conn.execute(
            text("SELECT create_partition_range('stock_data_ticks', '2024-03-04', '2024-03-05')")
        )
        for day, n in (("2024-03-04", 50), ("2024-03-05", 30)):
            conn.execute(
                text(
                    "INSERT INTO stock_data_ticks (underlying_id, time, price) "
                    "SELECT :u, CAST(:d AS timestamptz) + g * interval '1 second', 1 "
                    "FROM generate_series(1, :n) g"
                ),
                {"u": spy, "d": day, "n": n},
            )
        conn.execute(text("ANALYZE stock_data_ticks_p20240304"))  # one analysed, one not
        # The migration made the days around today ready (revision 0006): those come too.
        ready = conn.scalar(
            text("SELECT count(*) FROM partition_info WHERE parent_table = 'stock_data_ticks'")
        )
        last_end = conn.scalar(
            text(
                "SELECT max(range_end) FROM partition_info WHERE parent_table = 'stock_data_ticks'"
            )
        )
    engine.dispose()
    code, status = _json(capsys, "db", "status")
    assert code == 0
    ticks = next(t for t in status["time_series"] if t["hypertable_name"] == "stock_data_ticks")
    assert ticks["rows_estimate"] == 80
    assert ticks["num_chunks"] == ready and ready >= 2 + 9
    assert ticks["last_partition_end"].startswith(last_end.date().isoformat())


@pytest.mark.parametrize("argv", [["db", "status"], ["stats"], ["db", "upgrade"], ["validate"]])
def test_unreachable_database_is_one_clear_line(
    argv: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ALC_DATABASE_URL", "postgresql://trader:S3cretPw@127.0.0.1:1/options")
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err and "S3cretPw" not in err
    assert "127.0.0.1" in err or "refused" in err.lower() or "connect" in err.lower()


def test_unreachable_ib_and_bad_address(fresh_url: URL, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as excinfo:
        main(["load-history", "SPY", "--start", "2026-11-02", "--end", "2026-11-03", "--ib", "foo"])
    assert excinfo.value.code == 2
    assert "HOST:PORT" in capsys.readouterr().err
    assert main(["collect", "SPY", "--ib", "127.0.0.1:1", "--duration", "1s"]) == 1
    err = capsys.readouterr().err
    assert "BrokerUnavailableError" in err and "127.0.0.1:1" in err and "Traceback" not in err


USER_SECRET, QUERY_SECRET = "UserInfoS3cret", "QueryS3cret"


def _secret_url(url: URL) -> str:
    """``url`` with a password in the user info and another in the query (the test server
    trusts every local connection, so both are accepted and ignored)."""
    query = {**url.query, "password": QUERY_SECRET}
    return url.set(password=USER_SECRET, query=query).render_as_string(hide_password=False)


def test_no_secret_in_any_output(
    database_factory: Callable[[], URL],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
    tmp_path: Path,
) -> None:
    monkeypatch.setenv("ALC_DATABASE_URL", _secret_url(database_factory()))
    caplog.set_level(logging.DEBUG)
    shown = []
    for argv in (
        ["db", "upgrade"], ["db", "current"], ["db", "status"], ["db", "check"],
        ["db", "maintain"], ["stats"], ["validate"], ["report", "--html", str(tmp_path / "r.html")],
    ):  # fmt: skip
        for extra in ([], ["--json"]):
            code = main([*argv, *extra])
            captured = capsys.readouterr()
            assert code == 0, (argv, captured.err)
            shown.append(captured.out + captured.err)
    assert main(["db", "downgrade", "base", "--json"]) == 1  # refused: it would delete rows
    shown.append(str(capsys.readouterr()))
    assert main(["db", "downgrade", "base", "--drop-data", "--json"]) == 0
    shown.append(str(capsys.readouterr()))
    shown += [caplog.text, (tmp_path / "r.html").read_text()]
    everything = "\n".join(shown)
    assert "127.0.0.1" in everything and "***" in everything  # the URL is shown, masked
    assert USER_SECRET not in everything and QUERY_SECRET not in everything


def test_psql_passes_every_argument_through(
    fresh_url: URL, capfd: pytest.CaptureFixture[str]
) -> None:
    """``db psql -c "..."`` (once refused by the parser: only ``db psql DBNAME -c`` worked)."""
    assert main(["db", "psql", "-c", "SELECT 40 + 2 AS answer", "-t", "-A"]) == 0
    assert capfd.readouterr().out.strip() == "42"
    assert main(["db", "psql", "-tAc", "SELECT current_database()"]) == 0  # control: combined
    assert capfd.readouterr().out.strip() == fresh_url.database


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0
    assert capsys.readouterr().out.startswith("alc-data ")


def test_an_unwritable_report_path_is_not_a_database_error(
    fresh_url: URL, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["db", "upgrade"]) == 0
    capsys.readouterr()
    (tmp_path / "a-file").write_text("not a directory")
    assert main(["report", "--html", str(tmp_path / "a-file" / "r.html")]) == 1
    err = capsys.readouterr().err
    assert "cannot write" in err and "database" not in err and len(err.strip().splitlines()) == 1
    assert main(["report", "--html", str(tmp_path / "r.html")]) == 0  # control
    assert (tmp_path / "r.html").read_text(encoding="utf-8").startswith("<!")
