"""The report as a person sees it: rendered by a real headless Chromium (Debian's package,
launched through Playwright with ``executable_path``; Playwright cannot download its own).

Locally the test is skipped, with the reason, where no browser is installed; with ``CI=1`` or
``ALC_REQUIRE_BROWSER=1`` (``.ci/run`` sets it) a missing browser fails instead.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from alc_data.report import build_report, render_html
from tests.support.report_market import END, START, seed

CHROMIUM = os.environ.get("ALC_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
SECTIONS = ("coverage", "smile", "term", "spreads", "price_path", "quality", "history", "scans")
# What a drawn mark is, per trace type: heatmaps paint an <image>, lines and markers and bars
# are <path>s with geometry.
_MARKS = """
(id) => {
  const gd = document.getElementById(id);
  const marks = gd.querySelectorAll(
    '.heatmaplayer image, .scatterlayer path.js-line, .scatterlayer path.point, '
    + '.barlayer path');
  const drawn = [...marks].filter(m => m.tagName === 'image'
    ? (m.getAttribute('href') || m.getAttribute('xlink:href') || '').startsWith('data:')
    : (m.getAttribute('d') || '').length > 2);
  return {traces: gd._fullData.length, marks: drawn.length};
}
"""


def _browser_or_skip() -> Any:
    required = os.environ.get("CI") == "1" or os.environ.get("ALC_REQUIRE_BROWSER") == "1"
    missing = []
    try:
        from playwright.async_api import async_playwright
    except ImportError:
        missing.append("the playwright package is not installed")
    if not Path(CHROMIUM).exists():
        missing.append(f"no Chromium at {CHROMIUM} (apt-get install -y chromium)")
    if missing:
        reason = "browser test: " + "; ".join(missing)
        if required:
            pytest.fail(reason + " (CI=1 / ALC_REQUIRE_BROWSER=1: a skip here fails the build)")
        pytest.skip(reason)
    return async_playwright


async def _render(path: Path, screenshot: Path) -> dict[str, Any]:
    async_playwright = _browser_or_skip()
    errors: list[str] = []
    fetched: list[str] = []
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            page = await browser.new_page(viewport={"width": 1400, "height": 900})
            page.on("pageerror", lambda exc: errors.append(f"pageerror: {exc}"))
            page.on(
                "console",
                lambda msg: errors.append(f"console: {msg.text}") if msg.type == "error" else None,
            )
            page.on("request", lambda req: fetched.append(req.url))
            await page.goto(path.as_uri(), wait_until="load")
            ids = await page.eval_on_selector_all(".js-plotly-plot", "els => els.map(e => e.id)")
            marks = {i: await page.evaluate(_MARKS, i) for i in ids}
            await page.screenshot(path=str(screenshot), full_page=True)
            empties = await page.eval_on_selector_all(
                ".empty", "els => els.map(e => e.textContent)"
            )
        finally:
            await browser.close()
    return {"errors": errors, "fetched": fetched, "marks": marks, "empties": empties}


@pytest.mark.timeout(180)
async def test_every_chart_draws_its_marks_in_chromium(
    clean_db: AsyncEngine, tmp_path: Path
) -> None:
    async with clean_db.begin() as conn:
        await seed(conn)
    async with clean_db.connect() as conn:
        report = await build_report(conn, start=START, end=END, source="sim-a")
    page = (tmp_path / "report.html").resolve()
    page.write_text(render_html(report), encoding="utf-8")
    seen = await _render(page, tmp_path / "report.png")
    assert seen["errors"] == []
    assert seen["fetched"] == [page.as_uri()]  # offline: nothing else requested
    assert set(seen["marks"]) == {f"chart-{s}-XYZ" for s in SECTIONS}
    for chart, drawn in seen["marks"].items():
        # Every trace drew at least one mark (a heatmap paints one image per facet).
        assert drawn["traces"] > 0 and drawn["marks"] >= drawn["traces"], (chart, drawn)
    assert (tmp_path / "report.png").stat().st_size > 10_000
    print(f"screenshot: {tmp_path / 'report.png'}")


@pytest.mark.timeout(180)
async def test_an_empty_database_shows_reasons_not_blank_charts(
    clean_db: AsyncEngine, tmp_path: Path
) -> None:
    async with clean_db.connect() as conn:
        report = await build_report(conn, start=START, end=END)
    page = (tmp_path / "empty.html").resolve()
    page.write_text(render_html(report), encoding="utf-8")
    seen = await _render(page, tmp_path / "empty.png")
    assert seen["errors"] == [] and seen["marks"] == {}
    assert seen["empties"] == [
        "no ticks or bars of any source between 2026-11-17T14:00:00+00:00 and "
        "2026-11-17T22:00:00+00:00",
        "no underlying in the database",
    ]
