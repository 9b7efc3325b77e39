"""Dark theme readability in a real browser (Chromium): every input and dropdown placeholder on
the command map, the grid editor and the planner — closed dropdowns, the search box of each open
dropdown — and disabled input text reach WCAG AA (contrast ≥ 4.5:1) against the background they
are drawn on (translucent panels composed over the page). The case table's filter cells are left
out: their placeholder is transparent by design until focused."""

from __future__ import annotations

import pytest
from live import chromium_page, dashboard

pytestmark = pytest.mark.browser

AA = 4.5

#: Contrast of the text of every visible placeholder (and of text in `disabled` inputs) against
#: its effective background: colours with alpha and element opacity composed over the ancestors'.
_CONTRAST = """(() => {
  const parse = c => { const m = (c || '').match(/rgba?\\(([^)]+)\\)/); if (!m) return null;
    const p = m[1].split(/[ ,\\/]+/).filter(Boolean).map(Number); return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1]; };
  const over = (t, u) => [0, 1, 2].map(i => t[i] * t[3] + u[i] * (1 - t[3])).concat([1]);
  const lum = c => c.slice(0, 3).map(v => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); })
                    .reduce((s, v, i) => s + v * [0.2126, 0.7152, 0.0722][i], 0);
  const ratio = (a, b) => { const x = lum(a), y = lum(b); return (Math.max(x, y) + 0.05) / (Math.min(x, y) + 0.05); };
  const background = el => { const layers = [];
    for (let e = el; e && e.nodeType === 1; e = e.parentElement) {
      const b = parse(getComputedStyle(e).backgroundColor); if (b && b[3] > 0) layers.push(b); if (b && b[3] >= 1) break; }
    let c = [6, 11, 22, 1]; for (let i = layers.length - 1; i >= 0; i--) c = over(layers[i], c); return c; };
  const measure = (el, colour, kind, text) => { let c = parse(colour), op = 1;
    for (let e = el; e && e.nodeType === 1; e = e.parentElement) op *= Number(getComputedStyle(e).opacity);
    const bg = background(el); return {kind, text, id: el.id || el.className, ratio: ratio(over([c[0], c[1], c[2], c[3] * op], bg), bg)}; };
  const shown = el => { const r = el.getBoundingClientRect(); return r.width > 0 && r.height > 0; };
  const out = [];
  document.querySelectorAll('input[placeholder], textarea[placeholder]').forEach(el => {
    if (shown(el) && !el.value && !el.closest('th.dash-filter'))
      out.push(measure(el, getComputedStyle(el, '::placeholder').color, 'placeholder', el.placeholder)); });
  document.querySelectorAll('.dash-dropdown-placeholder').forEach(el => {
    if (shown(el)) out.push(measure(el, getComputedStyle(el).color, 'dropdown placeholder', el.innerText)); });
  document.querySelectorAll('input:disabled, textarea:disabled').forEach(el => {
    if (shown(el) && el.value) out.push(measure(el, getComputedStyle(el).color, 'disabled', el.value)); });
  return out; })()"""


def _audit(pg) -> list[dict]:
    """Measurements with every visible dropdown closed, then with each one open in turn."""
    found = pg.evaluate(_CONTRAST)
    dropdowns = pg.locator(".dash-dropdown:visible")
    for i in range(dropdowns.count()):
        dropdowns.nth(i).click()
        pg.wait_for_selector(".dash-dropdown-content", timeout=5_000)
        found += [r for r in pg.evaluate(_CONTRAST) if r["kind"] == "placeholder"]
        pg.keyboard.press("Escape")
        pg.wait_for_selector(".dash-dropdown-content", state="detached", timeout=5_000)
    return found


def test_placeholders_and_disabled_text_are_readable_on_the_dark_theme(demo_db):
    with dashboard(demo_db.dsn) as url, chromium_page() as pg:
        results = {}
        for path, ready in (("/", "#og-actor"), ("/editor", "#ed-author"), ("/planner", "#pl-min-age")):
            pg.goto(url + path)
            pg.wait_for_selector(ready, timeout=30_000)
            pg.wait_for_timeout(1500)
            assert "og-theme-dark" in pg.get_attribute(".og-root", "class")
            # A disabled input with text in it, as a form shows while it saves.
            pg.evaluate(f"(() => {{ const e = document.querySelector({ready!r}); e.value = '值班员'; e.disabled = true; }})()")
            results[path] = _audit(pg)
        kinds = {r["kind"] for found in results.values() for r in found}
        assert {"placeholder", "dropdown placeholder", "disabled"} <= kinds, kinds  # the audit saw each kind
        low = [(path, r) for path, found in results.items() for r in found if r["ratio"] < AA]
        assert not low, low
        assert not pg.errors, pg.errors
