"""report.html in a real headless Chromium: no console errors, every chart drawn with data, inert hostile text.

Needs Chromium and its driver (Debian: ``apt-get install -y chromium chromium-driver fonts-noto-cjk``)
and ``pip install selenium``. Without them the tests fail, not skip: CI must run them.
``OMNIPLUG_CHROMIUM`` and ``OMNIPLUG_CHROMEDRIVER`` point at other binaries.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from omniplug.report import build_report
from omniplug.report.sample import HOSTILE_TEXTS, world_media, write_sample_outputs

INSTALL = ("install Chromium and its driver (Debian: apt-get install -y chromium chromium-driver fonts-noto-cjk) "
           "and selenium (pip install selenium), or set OMNIPLUG_CHROMIUM and OMNIPLUG_CHROMEDRIVER")


def _binary(env: str, names: tuple[str, ...]) -> str | None:
    if os.environ.get(env):
        return os.environ[env]
    return next((found for name in names if (found := shutil.which(name))), None)


@pytest.fixture(scope="module")
def driver() -> Iterator[Any]:
    chromium = _binary("OMNIPLUG_CHROMIUM", ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"))
    chromedriver = _binary("OMNIPLUG_CHROMEDRIVER", ("chromedriver",))
    if chromium is None or chromedriver is None:
        pytest.fail(f"no headless browser: {INSTALL}")
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        pytest.fail(f"selenium is not installed: {INSTALL}")
    options = webdriver.ChromeOptions()
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--window-size=1300,1000", "--lang=zh-CN"):
        options.add_argument(arg)
    options.binary_location = chromium
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    browser = webdriver.Chrome(options=options, service=Service(chromedriver))
    try:
        yield browser
    finally:
        browser.quit()


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("browser") / "out"
    world = write_sample_outputs(out, scale=0.1, seed=5, media_files=False, awkward=True)
    return build_report(out, media=world_media(world))


@pytest.fixture
def page(driver: Any, report: Path) -> Any:
    driver.get(report.resolve().as_uri())
    return driver


def severe(driver: Any) -> list[dict[str, Any]]:
    return [entry for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]


def test_renders_without_console_errors(page: Any) -> None:
    assert page.execute_script("return document.readyState") == "complete"
    assert severe(page) == []
    assert "全域效果报告" in page.title + page.find_element("css selector", "h1").text
    assert page.execute_script("return document.characterSet") == "UTF-8"


def test_every_chart_has_data_and_marks(page: Any) -> None:
    charts = page.execute_script("""
        return Array.from(document.querySelectorAll('figure.chart')).map(function (f) {
          var box = f.getBoundingClientRect();
          return {kind: f.dataset.chart, rows: f.dataset.rows, width: box.width, height: box.height,
                  marks: f.querySelectorAll('g.mark').length, cells: f.querySelectorAll('tbody td').length,
                  lines: f.querySelectorAll('polyline').length};
        });""")
    kinds = {c["kind"] for c in charts}
    assert {"revenue-by-channel", "roi-by-channel", "kol-roi", "sparkline", "aipl-all", "aipl-platform",
            "creative-matrix", "ids-per-person", "platforms-per-person", "cuts-by-guardrail", "rejects-by-reason",
            "rows-by-table"} <= kinds
    for chart in charts:
        rows = json.loads(chart["rows"])
        assert rows, chart["kind"]
        assert chart["width"] > 0 and chart["height"] > 0, chart["kind"]
        if chart["kind"] == "sparkline":
            assert chart["lines"] == 1
        elif chart["kind"] in ("creative-matrix", "rows-by-table"):
            assert chart["cells"] >= len(rows)
        else:
            assert chart["marks"] == len(rows), chart["kind"]  # one drawn mark per data row


def test_thumbnails_are_embedded_and_decode(page: Any) -> None:
    images = page.execute_script("""
        return Array.from(document.images).map(function (i) {
          return {src: i.src.slice(0, 23), ok: i.complete && i.naturalWidth > 0};
        });""")
    assert images and all(i["ok"] and i["src"] == "data:image/jpeg;base64," for i in images)


def test_hostile_text_is_shown_not_run(page: Any) -> None:
    assert page.execute_script("return typeof window.__pwned") == "undefined"
    text = page.find_element("css selector", "body").text
    assert HOSTILE_TEXTS[0] in text and HOSTILE_TEXTS[1] in text
    assert page.execute_script("return document.scripts.length") == 1
    assert severe(page) == []


def test_tables_sort_on_click(page: Any) -> None:
    table = page.find_element("css selector", "#kol table.sortable")
    heads = table.find_elements("css selector", "thead th")
    col = next(i for i, h in enumerate(heads) if h.text == "cost")

    def costs() -> list[float]:
        values = page.execute_script(
            "var table = arguments[0], col = arguments[1];"
            "return Array.from(table.tBodies[0].rows).map(function (r) "
            "{ return r.cells[col].getAttribute('data-v'); });", table, col)
        return [float(v) for v in values if v not in (None, "", "None")]

    heads[col].click()
    ascending = costs()
    heads[col].click()
    descending = costs()
    assert len(ascending) >= 2 and ascending == sorted(ascending) and descending == sorted(ascending, reverse=True)
    assert severe(page) == []
