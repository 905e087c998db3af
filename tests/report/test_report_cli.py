"""``alc-data report --html FILE [--symbol] [--start --end] [--source] [--open]``."""

from __future__ import annotations

import json
import webbrowser
from pathlib import Path

import pytest
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncEngine

from alc_data.cli import main
from tests.support.report_market import seed


@pytest.fixture
async def configured(
    clean_db: AsyncEngine, migrated_url: URL, monkeypatch: pytest.MonkeyPatch
) -> AsyncEngine:
    async with clean_db.begin() as conn:
        await seed(conn)
    monkeypatch.setenv("ALC_DATABASE_URL", migrated_url.render_as_string(hide_password=False))
    return clean_db


def test_window_symbol_source_and_open(
    configured: AsyncEngine,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    opened: list[str] = []

    def record(uri: str) -> bool:
        opened.append(uri)
        return True

    monkeypatch.setattr(webbrowser, "open", record)
    out = tmp_path / "sub" / "xyz.html"
    argv = ["report", "--html", str(out), "--symbol", "xyz", "--start", "2026-11-17T14:00",
            "--end", "2026-11-17T17:00+00:00", "--source", "sim-b", "--open", "--json"]  # fmt: skip
    assert main(argv) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["window"]["start"] == "2026-11-17T14:00:00+00:00"
    assert report["window"]["hours"] == 3 and report["source"] == "sim-b"
    assert [u["symbol"] for u in report["underlyings"]] == ["XYZ"]
    assert opened == [out.resolve().as_uri()]
    assert 'id="chart-coverage-XYZ"' in out.read_text(encoding="utf-8")
    # Without --open nothing is opened (the positive control is above).
    assert main(["report", "--html", str(out), "--source", "sim-a", "--start", "2026-11-17"]) == 0
    assert len(opened) == 1
    assert "wrote" in capsys.readouterr().out


def test_bad_windows_are_refused_with_a_reason(
    configured: AsyncEngine, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "bad.html"
    argv = ["report", "--html", str(out), "--source", "sim-a"]
    assert main([*argv, "--start", "2026-11-18", "--end", "2026-11-17"]) == 2
    assert "is not before" in capsys.readouterr().err
    assert not out.exists()
    with pytest.raises(SystemExit):
        main([*argv, "--start", "last tuesday"])
    assert "not an ISO date" in capsys.readouterr().err
    assert main([*argv, "--source", "nobody", "--start", "2026-11-17"]) == 1
    assert "nobody" in capsys.readouterr().err
