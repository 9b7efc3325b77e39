"""The planner page in headless Chromium: coverage map and figures, a background MCLP solve
with progress, scenario comparison with proposed sites on the map, an export download."""

from __future__ import annotations

import json
import re

import pytest

from geodata.planning.demand import fetch_planning_kinds
from tests.live import SHOTS, chromium_page, dashboard

pytestmark = pytest.mark.browser


def _wait_text(page, selector: str, pattern: str, timeout: float = 90_000) -> str:
    page.wait_for_function("([sel, pat]) => { const el = document.querySelector(sel);"
                           " return el && new RegExp(pat).test(el.innerText); }",
                           arg=[selector, pattern], timeout=timeout)
    return page.inner_text(selector)


def test_planner_page_coverage_solve_compare_export(demo_db, tmp_path):
    with dashboard(demo_db.dsn) as url, chromium_page() as page:
        page.goto(url + "/planner", wait_until="networkidle")
        figures = _wait_text(page, "#pl-figures", "覆盖率")
        assert re.search(r"\d+(\.\d)?%", figures), figures
        assert "步行路网" in page.inner_text("#pl-mode"), "the demo has roads: distances along the network"
        page.wait_for_selector(".pl-cell", timeout=30_000)
        assert page.locator(".pl-cell").count() > 10
        assert page.locator("#pl-table tbody tr").count() >= 1

        # The map shows where one is from the start: district and street outlines, today's facilities.
        with demo_db.connect() as conn:
            counts = dict(conn.execute("SELECT kind, count(*) FROM facility GROUP BY kind").fetchall())
            first_kind = fetch_planning_kinds(conn)[0]["code"]
        assert page.locator(".og-outline-district").count() >= 1
        assert page.locator(".og-label-street").count() >= 2, "street names label the first view"
        assert page.locator(".pl-fac").count() == counts[first_kind]

        # Kindergartens: the 5-minute life circle (300 m) and ages 3–5 come from the norms; their
        # facilities replace the first kind's at once, before any analysis is computed.
        page.click("#pl-kind")
        page.get_by_text(re.compile("^幼儿园")).first.click()
        page.wait_for_function("(n) => document.querySelectorAll('.pl-fac').length === n",
                               arg=counts["kindergarten"], timeout=15_000)
        page.wait_for_function("document.querySelector('#pl-radius').value === '300'", timeout=10_000)
        assert page.input_value("#pl-min-age") == "3" and page.input_value("#pl-max-age") == "5"
        assert "5 分钟生活圈" in page.inner_text("#pl-level")
        before = page.inner_text("#pl-figures")
        page.click("#pl-compute")
        page.wait_for_function("(old) => document.querySelector('#pl-figures').innerText !== old", arg=before,
                               timeout=60_000)

        # Bad input is a clear message, not a crash: no name; then k larger than the candidates.
        page.click("#pl-solve")
        assert "name" in _wait_text(page, "#pl-message", ".+", 30_000)
        page.fill("#pl-name", "幼儿园 新增2处")
        page.fill("#pl-k", "4000")
        page.press("#pl-k", "Enter")
        page.click("#pl-solve")
        failed = _wait_text(page, "#pl-job-text", "失败", 120_000)
        assert "larger than candidates" in failed, failed

        page.fill("#pl-k", "2")
        page.press("#pl-k", "Enter")
        page.fill("#pl-time-limit", "20")
        page.press("#pl-time-limit", "Enter")
        old = page.inner_text("#pl-job-text")
        page.click("#pl-solve")
        page.wait_for_function("(old) => { const t = document.querySelector('#pl-job-text').innerText;"
                               " return t !== old && /完成|失败/.test(t); }", arg=old, timeout=120_000)
        done = page.inner_text("#pl-job-text")
        assert "完成" in done, done
        assert page.get_attribute("#pl-progress", "value") == "100"

        page.locator(".pl-scenarios input").first.check()
        compare = _wait_text(page, "#pl-compare", "幼儿园 新增2处")
        assert "optimal" in compare or "time_limit" in compare
        page.wait_for_selector(".pl-site", timeout=10_000)
        assert page.locator(".pl-site").count() == 2
        page.screenshot(path=str(SHOTS / "planner.png"))

        with page.expect_download() as dl:
            page.click("#pl-export-geojson")
        path = tmp_path / "s.geojson"
        dl.value.save_as(path)
        data = json.loads(path.read_text())
        assert len(data["features"]) == 2 and data["scenario"]["model"] == "mclp"

        page.goto(url + "/planner?lang=en", wait_until="networkidle")
        _wait_text(page, "#pl-figures", "Coverage")
        assert "walking network" in page.inner_text("#pl-mode")
        assert not page.errors, page.errors
        assert all(r.startswith(url) or r.startswith("data:") for r in page.requests), "nothing from the internet"
