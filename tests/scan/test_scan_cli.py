"""``alc-data scan``: the summary, the JSON, the run id; bad arguments exit 2."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncEngine

from alc_data import Database
from alc_data.cli import main
from tests.support.scanning import AS_OF, STEP, seed_chain

WINDOW = ["--start", AS_OF.isoformat(), "--end", (AS_OF + 4 * STEP).isoformat()]


@pytest.fixture
def url(clean_db: AsyncEngine, migrated_url: URL, monkeypatch: pytest.MonkeyPatch) -> str:
    text = migrated_url.render_as_string(hide_password=False)
    monkeypatch.setenv("ALC_DATABASE_URL", text)

    async def seed() -> None:
        db = Database.from_url(migrated_url)
        try:
            await seed_chain(db)
        finally:
            await db.close()

    asyncio.run(seed())
    return text


def test_json_and_summary(url: str, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    fees = tmp_path / "fees.yaml"
    fees.write_text("fees: {per_contract: 0.65, per_share: 0.005}\n")  # a scenario's section
    assert main(["scan", "SPY", *WINDOW, "--min-edge", "0.5", "--fees", str(fees), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["counts"] == {"conversion": 1, "calendar": 1}
    assert round(next(f["edge"] for f in out["findings"] if f["kind"] == "conversion"), 2) == 1.77
    assert main(["scan", "SPY", *WINDOW, "--min-edge", "0.5", "--kinds", "calendar"]) == 0
    text = capsys.readouterr().out
    assert text.startswith("scan run ") and "calendar             1" in text
    assert "conversion           0" in text and "best:" in text
    # a minimum above every edge: a run with nothing found (control: the same window above)
    assert main(["scan", "SPY", *WINDOW, "--min-edge", "100", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["counts"] == {}


def test_bad_arguments(url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "fees.yaml"
    bad.write_text("per_contract: -1\n")
    assert main(["scan", "SPY", *WINDOW, "--fees", str(bad)]) == 2
    assert main(["scan", "SPY", *WINDOW, "--kinds", "butterfly"]) == 2
    assert main(["scan", "SPY", "--start", WINDOW[3], "--end", WINDOW[1]]) == 2
    assert "configuration error" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["scan", "SPY", "--start", "2026-11-18T16:00:00", "--end", WINDOW[3]])  # naive
