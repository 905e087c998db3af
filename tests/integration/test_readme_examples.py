"""The README's strategy-code example, run as written against a seeded database."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL

from alc_data.config import with_driver
from alc_data.db import migrate

README = Path(__file__).resolve().parents[2] / "README.md"


def _python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)


def test_strategy_example_runs(
    database_factory: Callable[[], URL],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    url = database_factory()
    migrate.upgrade(url, "head")
    engine = create_engine(with_driver(url, "psycopg"))
    with engine.begin() as conn:
        spy = conn.scalar(
            text("INSERT INTO underlying_securities (symbol) VALUES ('SPY') RETURNING id")
        )
        cid = conn.scalar(
            text(
                "INSERT INTO option_chains (underlying_id, expiration_date, strike_price, "
                "option_type, trading_class, contract_symbol) VALUES "
                "(:u, '2026-12-18', 600, 'C', 'SPY', 'SPY   261218C00600000') RETURNING id"
            ),
            {"u": spy},
        )
        for table in ("market_data_ticks", "stock_data_ticks"):
            conn.execute(
                text(f"SELECT create_partition_range('{table}', '2026-11-20', '2026-11-20')")
            )
        conn.execute(
            text(
                "INSERT INTO market_data_ticks (contract_id, time, bid_price, ask_price, delta) "
                "SELECT :c, '2026-11-20 14:00+00'::timestamptz + g * interval '1 minute', "
                "5 + g / 100.0, 5.1 + g / 100.0, 0.5 FROM generate_series(0, 80) g"
            ),
            {"c": cid},
        )
        conn.execute(
            text("INSERT INTO stock_data_ticks (underlying_id, time, price) "
                 "VALUES (:u, '2026-11-20 15:29+00', 598.2)"),
            {"u": spy},
        )  # fmt: skip
    monkeypatch.setenv("ALC_DATABASE_URL", url.render_as_string(hide_password=False))

    example = _python_blocks()[0]
    assert "chain_snapshot" in example and "opportunities.log" in example
    exec(compile(example, "README.md", "exec"), {"__name__": "readme"})

    out = capsys.readouterr().out.split("\n")
    assert out[0] == "598.2"
    assert out[1].startswith("SPY   261218C00600000 5.8 5.9")  # the quote at 15:20, before 15:30
    with engine.connect() as conn:
        logged = conn.execute(
            text("SELECT strategy_type, underlying_id, roi_percent FROM arbitrage_opportunities")
        ).one()
    engine.dispose()
    assert tuple(logged) == ("SFR", spy, 0.21)


def test_strategy_example_says_so_when_the_chosen_time_holds_no_data(
    database_factory: Callable[[], URL],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    url = database_factory()
    migrate.upgrade(url, "head")
    engine = create_engine(with_driver(url, "psycopg"))
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO underlying_securities (symbol) VALUES ('SPY')"))
    engine.dispose()
    monkeypatch.setenv("ALC_DATABASE_URL", url.render_as_string(hide_password=False))
    exec(compile(_python_blocks()[0], "README.md", "exec"), {"__name__": "readme"})
    out = capsys.readouterr().out
    assert out.startswith("no SPY quotes at or before 2026-11-20 15:30:00+00:00: pick a time")
