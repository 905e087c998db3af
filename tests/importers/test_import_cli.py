"""``alc-data import``: the command line runs the importer and prints the summary."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

from alc_data import Database
from tests.support.importing import T0_NS, table_rows, write_csv_gz

QUOTES = ["ticker", "ask_exchange", "ask_price", "ask_size", "bid_exchange", "bid_price",
          "bid_size", "sequence_number", "sip_timestamp"]  # fmt: skip


async def alc_data(db: Database, *args: str) -> tuple[int, str, str]:
    env = {**os.environ, "ALC_DATABASE_URL": db.engine.url.render_as_string(hide_password=False)}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "alc_data.cli", *args, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await process.communicate()
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def test_import_prints_a_json_summary_and_a_rerun_skips_the_file(
    db: Database, tmp_path: Path
) -> None:
    path = write_csv_gz(tmp_path / "q.csv.gz", QUOTES, [
        ["O:SPY240315C00510000", 1, "1.25", 10, 2, "1.20", 5, 1, T0_NS],
        ["O:QQQ240315C00440000", 1, "1.25", 10, 2, "1.20", 5, 2, T0_NS],
        ["O:SPY240315C00510000", 1, "1.25"],
    ])  # fmt: skip
    code, out, err = await alc_data(db, "import", "massive", str(path), "--source", "polygon",
                                    "--symbols", "spy", "--json")  # fmt: skip
    assert code == 0, err
    summary = json.loads(out.strip().splitlines()[-1])
    assert {k: summary[k] for k in ("rows_read", "rows_written", "duplicates", "rejected")} == {
        "rows_read": 3, "rows_written": 1, "duplicates": 0, "rejected": {"bad_record": 1},
    }  # fmt: skip
    assert summary["bad_records"][0]["record"] == 3
    assert "rows/s" in err and "ETA" in err
    assert await table_rows(db, "SELECT name, kind FROM data_sources WHERE name = 'polygon'") == [
        ("polygon", "vendor")
    ]
    code, out, _ = await alc_data(db, "import", "massive", str(path), "--source", "polygon")
    assert code == 0
    assert "0 of 1 files" in out and "1 done before" in out


async def test_bad_usage_exits_2(db: Database, tmp_path: Path) -> None:
    code, _, err = await alc_data(
        db, "import", "massive", "x.csv.gz", "--start", "2024-03-07T10:00"
    )
    assert code == 2 and "time zone" in err
    code, _, err = await alc_data(db, "import", "nasdaq", "x.csv.gz")
    assert code == 2 and "invalid choice" in err
