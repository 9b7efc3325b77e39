"""No built-in English on the Chinese pages (real Chromium): the text Dash 4's dropdowns, Dash's
DataTable, Leaflet's zoom control and leaflet-draw draw themselves (search box, select-all buttons,
"no options", tooltips, the editor's draw toolbar) speaks Chinese on the command map (with its
report and export panels open), the grid editor, the planner and the wall; on ``?lang=en`` the
same places speak English (the translation follows the page, it is not hard-wired). The print
and briefing pages' tab titles are in the server's language."""

from __future__ import annotations

import re

import pytest
from live import chromium_page, dashboard

pytestmark = pytest.mark.browser

#: The components' own English (Dash dcc.Dropdown defaults, DataTable, Leaflet, leaflet-draw).
BUILT_IN = re.compile(r"^(Search|Select All|Deselect All|\d+ selected|No options found|Clear search|Clear selection|"
                      r"Zoom in|Zoom out|Toggle filter case sensitivity|Draw a \w+|Delete layers|Edit layers|"
                      r"No layers to (delete|edit)|Cancel|Finish|Delete last point|Click .*)$")

#: Every visible text node, placeholder, title and aria-label on the page.
_TEXTS = """(() => { const out = [];
  const shown = el => { const r = el.getBoundingClientRect(); return r.width > 0 && r.height > 0; };
  const walk = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walk.nextNode()) { const n = walk.currentNode, t = n.textContent.trim();
    if (t && n.parentElement && shown(n.parentElement)) out.push(t); }
  document.querySelectorAll('[placeholder],[title],[aria-label]').forEach(el => {
    if (!shown(el)) return;
    for (const a of ['placeholder', 'title', 'aria-label']) { const v = el.getAttribute(a); if (v) out.push(v.trim()); } });
  return out; })()"""


def _texts_with_dropdowns_open(pg) -> set[str]:
    """Texts with every dropdown closed, then with each visible one open and searched for a
    string that matches nothing (the "no options" message)."""
    found = set(pg.evaluate(_TEXTS))
    dropdowns = pg.locator(".dash-dropdown:visible")
    for i in range(dropdowns.count()):
        dropdowns.nth(i).click()
        pg.wait_for_selector(".dash-dropdown-content", timeout=5_000)
        found |= set(pg.evaluate(_TEXTS))
        search = pg.locator(".dash-dropdown-content input.dash-dropdown-search")
        if search.count():
            search.fill("zzzz")
            pg.wait_for_timeout(300)
            found |= set(pg.evaluate(_TEXTS))
        pg.keyboard.press("Escape")
        pg.wait_for_selector(".dash-dropdown-content", state="detached", timeout=5_000)
    return found


def _visit(pg, url: str, lang: str) -> dict[str, set[str]]:
    seen = {}
    for path, ready in (("/", "#og-actor"), ("/editor", "#ed-author"), ("/planner", "#pl-min-age"),
                        ("/screen", ".og-wall")):
        pg.goto(f"{url}{path}?lang={lang}")
        pg.wait_for_selector(ready, timeout=30_000)
        pg.wait_for_selector(".leaflet-container", timeout=30_000)
        pg.wait_for_timeout(1500)
        if path == "/editor":
            pg.wait_for_selector(".leaflet-draw-draw-polygon", timeout=30_000)
        seen[path] = _texts_with_dropdowns_open(pg)
        if path == "/":
            pg.click("#og-export-toggle")
            pg.wait_for_selector("#og-export-panel:not(.og-hidden)", timeout=10_000)
            seen["/ export panel"] = _texts_with_dropdowns_open(pg)
            pg.click("#og-export-toggle-close")
            pg.click("#og-report-toggle")  # report mode: a map click places the case and opens the form
            pg.wait_for_timeout(500)
            pg.mouse.click(960, 540)
            pg.wait_for_selector("#og-report-panel:not(.og-hidden)", timeout=10_000)
            seen["/ report panel"] = _texts_with_dropdowns_open(pg)
        if path == "/editor":
            # The drawing hints and the toolbar's action buttons appear once drawing starts.
            pg.click(".leaflet-draw-draw-polygon")
            pg.wait_for_selector(".leaflet-draw-tooltip", timeout=5_000)
            pg.mouse.move(900, 500)
            seen["/editor drawing"] = set(pg.evaluate(_TEXTS)) | {pg.inner_text(".leaflet-draw-tooltip")}
            pg.keyboard.press("Escape")
    return seen


def test_no_built_in_english_on_chinese_pages_and_english_on_english_pages(demo_db):
    with dashboard(demo_db.dsn) as url, chromium_page() as pg:
        zh = _visit(pg, url, "zh")
        en = _visit(pg, url, "en")
        for path, name in (("/briefing", "每日简报"), ("/print", "指挥地图")):  # the print pages' tab titles
            pg.goto(url + path)
            pg.wait_for_function(f"document.title === 'OneGrid {name}'", timeout=30_000)
        assert not pg.errors, pg.errors
    english = {where: sorted(t for t in texts if BUILT_IN.match(t)) for where, texts in zh.items()}
    assert not any(english.values()), english
    everything = set().union(*zh.values())
    for chinese in ("搜索", "全选", "没有匹配的选项", "放大", "缩小", "画多边形", "点击开始画多边形。"):
        assert chinese in everything, chinese  # the audit saw each kind of built-in text
    seen_en = set().union(*en.values())
    for english_text in ("Search", "Select all", "No options found", "Zoom in", "Draw a polygon"):
        assert english_text in seen_en, english_text
