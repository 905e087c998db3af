"""``alc-data db maintain``, ``alc-data stats`` and ``alc-data report`` on a seeded database."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL, Engine

from alc_data.cli import main
from alc_data.config import with_driver
from alc_data.db import migrate

NOW = datetime.now(UTC).replace(microsecond=0)
RECENT = NOW - timedelta(hours=3)
OLD = NOW - timedelta(days=10)


@pytest.fixture
def seeded(
    database_factory: Callable[[], URL], monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[URL, Engine]]:
    """A migrated database with SPY contracts, ticks now and 10 days ago, and an opportunity."""
    url = database_factory()
    migrate.upgrade(url, "head")
    monkeypatch.setenv("ALC_DATABASE_URL", url.render_as_string(hide_password=False))
    engine = create_engine(with_driver(url, "psycopg"))
    with engine.begin() as conn:
        spy = conn.scalar(
            text("INSERT INTO underlying_securities (symbol) VALUES ('SPY') RETURNING id")
        )
        ids = [
            conn.scalar(
                text(
                    "INSERT INTO option_chains (underlying_id, expiration_date, strike_price, "
                    "option_type, trading_class, contract_symbol) VALUES "
                    "(:u, CURRENT_DATE + 30, :k, 'C', 'SPY', :s) RETURNING id"
                ),
                {"u": spy, "k": 500 + i, "s": f"SPY C{500 + i}"},
            )
            for i in range(2)
        ]
        for at in (OLD, RECENT):  # each run of ticks spans 30 minutes, maybe across midnight
            conn.execute(
                text("SELECT create_partition_range('market_data_ticks', :a, :b)"),
                {"a": at, "b": at + timedelta(minutes=30)},
            )
        rows = [
            {
                "c": cid,
                "t": base + timedelta(seconds=30 * i),
                "b": 1.0 + i / 100,
                "a": 1.1 + i / 100,
            }
            for cid in ids
            for base in (OLD, RECENT)
            for i in range(60)
        ]
        conn.execute(
            text(
                "INSERT INTO market_data_ticks (contract_id, time, bid_price, ask_price) "
                "VALUES (:c, :t, :b, :a)"
            ),
            rows,
        )
        conn.execute(
            text(
                "INSERT INTO arbitrage_opportunities (strategy_type, underlying_id, timestamp, "
                "roi_percent) VALUES ('SFR', :u, :t, 0.8)"
            ),
            {"u": spy, "t": RECENT},
        )
    yield url, engine
    engine.dispose()


def _json(capsys: pytest.CaptureFixture[str], *argv: str) -> dict[str, Any]:
    assert main([*argv, "--json"]) == 0
    printed: dict[str, Any] = json.loads(capsys.readouterr().out)
    return printed


def test_maintain_creates_ahead_refreshes_and_applies_retention(
    seeded: tuple[URL, Engine], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _, engine = seeded
    first = _json(capsys, "db", "maintain", "--ahead-days", "3")
    assert first["backend"] == "postgres"
    # Revision 0006 made yesterday .. a week ahead ready already: nothing or little to add.
    assert "market_data_ticks" in first["partitions_created"]
    assert first["rollups_refreshed"] == ["market_data_1min", "market_data_5min", "stock_data_1min"]
    assert first["partitions_dropped"] == {}  # ALC_RETENTION_DAYS unset: keep everything
    again = _json(capsys, "db", "maintain", "--ahead-days", "3")
    assert sum(again["partitions_created"].values()) == 0
    with engine.connect() as conn:
        for days in (-1, 0, 1, 2, 3):
            name = f"market_data_ticks_p{NOW + timedelta(days=days):%Y%m%d}"
            assert conn.scalar(text("SELECT to_regclass(:n)"), {"n": name}) is not None
        # Refreshed over the last 48 h: the recent half hour of ticks, not the old one.
        assert conn.scalar(text("SELECT sum(tick_count) FROM market_data_1min")) == 120

    monkeypatch.setenv("ALC_RETENTION_DAYS", "5")
    retained = _json(capsys, "db", "maintain")
    old_days = {(OLD + timedelta(seconds=30 * i)).date() for i in range(60)}  # 2 near midnight
    assert retained["partitions_dropped"]["market_data_ticks"] == len(old_days)
    with engine.connect() as conn:
        assert conn.scalar(text("SELECT count(*) FROM market_data_ticks")) == 120
        assert conn.scalar(text("SELECT min(time) FROM market_data_ticks")) >= RECENT


def test_stats(seeded: tuple[URL, Engine], capsys: pytest.CaptureFixture[str]) -> None:
    stats = _json(capsys, "stats")
    (spy,) = stats["underlyings"]
    assert (spy["symbol"], spy["contracts"], spy["option_ticks"], spy["opportunities"]) == (
        "SPY",
        2,
        240,
        1,
    )
    assert stats["totals"]["option_ticks"] == 240
    assert stats["quality_runs"] == []
    assert main(["validate", "--hours", "24"]) in (0, 1)
    capsys.readouterr()
    assert main(["stats"]) == 0
    out = capsys.readouterr().out
    assert "SPY" in out and "coverage 100.0%" in out


class _Structure(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def test_report_html_is_self_contained_with_plots(
    seeded: tuple[URL, Engine], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    out = tmp_path / "report.html"
    report = _json(capsys, "report", "--html", str(out), "--hours", "24")
    assert sum(c["ticks"] for c in report["coverage"]) == 120  # the recent ticks only
    assert sum(b["rows"] for b in report["spread_histogram"]) == 120
    assert report["opportunities"][0]["strategy_type"] == "SFR"
    html = out.read_text()
    parser = _Structure()
    parser.feed(html)
    tags = [t for t, _ in parser.tags]
    assert tags.count("svg") == 4
    assert "polyline" in tags and "rect" in tags
    sections = {a.get("id") for t, a in parser.tags if t == "section"}
    assert {"coverage", "spreads", "gaps", "opportunities"} <= sections
    # Self-contained: nothing fetched when opened.
    assert not [a for t, a in parser.tags if t in ("script", "link", "img")]
    assert "http://" not in html.replace("http://www.w3.org/2000/svg", "")
