"""The README's columnar-read example runs as written against the seeded market."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

from sqlalchemy.engine import URL

from tests.support.market import DAY0, Market

README = Path(__file__).resolve().parents[2] / "README.md"


def test_columnar_example_runs(migrated_url: URL, market: Market) -> None:
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
    example = next(b for b in blocks if "ArrowReader.connect(db)" in b)
    scope = {
        "db": migrated_url, "timedelta": timedelta, "t0": DAY0 - timedelta(hours=16),
        "t1": DAY0 + timedelta(hours=2), "cid1": market.contract_ids[0],
        "cid2": market.contract_ids[1],
    }  # fmt: skip
    exec(compile(example, "README.md", "exec"), scope)
    assert scope["day"].num_rows > 0 and scope["some"].num_rows > 0  # type: ignore[attr-defined]
    assert scope["snap"].quotes.num_rows == 8  # type: ignore[attr-defined]
    assert scope["state"].column("as_of") is not None  # type: ignore[attr-defined]
    assert scope["chain"].quotes  # type: ignore[attr-defined]
