"""Scenario exports: GeoJSON and CSV of the proposed sites, a one-page PDF report.

The PDF is drawn with reportlab in WenQuanYi Micro Hei (Debian ``fonts-wqy-microhei``) so
Chinese text renders; its small map shows the district outline, existing facilities of the
kind and the proposed sites (EPSG:4326 drawn with lon scaled by cos(lat)).
"""

from __future__ import annotations

import csv
import io
import json
import math
from pathlib import Path

import psycopg
import shapely

from geodata.errors import ConfigError, InvalidInput
from geodata.planning.coverage import public_scenario
from geodata.planning.scenarios import fetch_scenario
from geodata.settings import get_settings

FONT_PATH = Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")
DISTRICT = "SELECT ST_AsBinary(ST_Simplify(geom, 0.0005)), name FROM admin_area WHERE level = 'district' LIMIT 1"
EXISTING = "SELECT ST_X(geom), ST_Y(geom) FROM facility WHERE kind = %(kind)s"
KIND_NAME = "SELECT name_zh, name_en FROM facility_kind WHERE code = %(kind)s"
FORMATS = ("geojson", "csv", "pdf")
SITE_FIELDS = ("seq", "source", "ref", "label", "capacity", "served", "lon", "lat")


def export_scenario(conn: psycopg.Connection, scenario_id: int, fmt: str) -> bytes:
    """Scenario ``scenario_id`` as ``geojson``, ``csv`` or ``pdf`` bytes."""
    if fmt not in FORMATS:
        raise InvalidInput(f"export format must be one of {', '.join(FORMATS)}, got {fmt!r}")
    row = public_scenario(fetch_scenario(conn, scenario_id), get_settings().min_cell)
    if fmt == "geojson":
        return scenario_geojson(row).encode()
    if fmt == "csv":
        return scenario_csv(row).encode("utf-8-sig")  # BOM: Excel opens Chinese text right
    return scenario_pdf(conn, row)


def scenario_geojson(row: dict) -> str:
    feats = [{"type": "Feature", "geometry": {"type": "Point", "coordinates": [s["lon"], s["lat"]]},
              "properties": {k: s[k] for k in SITE_FIELDS if k not in ("lon", "lat")}} for s in row["sites"]]
    meta = {k: row[k] for k in ("name", "kind", "model", "distance_mode", "params", "figures", "solver")}
    return json.dumps({"type": "FeatureCollection", "scenario": meta, "features": feats}, ensure_ascii=False,
                      default=str)


def scenario_csv(row: dict) -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=SITE_FIELDS)
    writer.writeheader()
    for s in row["sites"]:
        writer.writerow({k: s[k] for k in SITE_FIELDS})
    return buf.getvalue()


def _font() -> str:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    if "WQY" not in pdfmetrics.getRegisteredFontNames():
        if not FONT_PATH.exists():
            raise ConfigError(f"Chinese font missing: {FONT_PATH} (apt-get install fonts-wqy-microhei)")
        pdfmetrics.registerFont(TTFont("WQY", str(FONT_PATH), subfontIndex=0))
    return "WQY"


def _fmt(value, unit: str = "") -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:,.1f}{unit}"
    return f"{value:,}{unit}"


def _figure_rows(row: dict) -> list[tuple[str, str, str]]:
    before, after = row["figures"]["before"], row["figures"]["after"]
    keys = [("覆盖率 coverage", "coverage_pct", " %"), ("服务人口 served", "served", ""),
            ("未覆盖人口 unserved", "unserved", ""), ("平均步行距离 mean", "mean_m", " m"),
            ("90% 分位距离 P90", "p90_m", " m")]
    return [(label, _fmt(before.get(k), u), _fmt(after.get(k), u)) for label, k, u in keys]


def scenario_pdf(conn: psycopg.Connection, row: dict) -> bytes:
    """A one-page A4 report: parameters, before/after figures, solver, map of the sites."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    font = _font()
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4)
    width, height = A4
    kind = conn.execute(KIND_NAME, {"kind": row["kind"]}).fetchone() or (row["kind"], row["kind"])
    p, solver = row["params"], row["solver"] or {}
    c.setTitle(f"OneGrid 规划方案 {row['name']}")
    c.setFont(font, 18)
    c.drawString(40, height - 50, f"规划方案 Planning scenario：{row['name']}")
    c.setFont(font, 10)
    lines = [f"设施类型 kind：{kind[0]} / {kind[1]}    模型 model：{row['model']}    "
             f"新增站点 new sites：{row['figures'].get('sites', 0)}",
             f"服务半径 radius：{p.get('radius_m')} m    年龄 ages：{p.get('min_age') or '—'}–{p.get('max_age') or '—'}    "
             f"距离 distance：{'步行路网 walking network' if row['distance_mode'] == 'network' else '直线×绕行系数 straight × ' + str(p.get('detour'))}",
             f"求解 solver：{solver.get('status', '—')}    gap：{_fmt(None if solver.get('gap') is None else 100 * solver['gap'], ' %')}"
             f"    用时 time：{_fmt(solver.get('seconds'), ' s')}    创建 created：{str(row['created_at'])[:19]}"]
    for n, text in enumerate(lines):
        c.drawString(40, height - 75 - 15 * n, text)
    y = height - 140
    c.setFont(font, 11)
    for n, (label, before, after) in enumerate([("指标 figure", "现状 before", "方案 after"), *_figure_rows(row)]):
        c.drawString(40, y - 17 * n, label)
        c.drawRightString(330, y - 17 * n, before)
        c.drawRightString(450, y - 17 * n, after)
    _draw_map(c, conn, row, (40, 60, width - 80, y - 17 * 7 - 80), font)
    c.setFont(font, 8)
    c.drawString(40, 40, "人口数字为汇总值（小于 ONEGRID_MIN_CELL 的单元不显示）· Population figures are aggregates.")
    c.showPage()
    c.save()
    return buf.getvalue()


def _draw_map(c, conn, row: dict, box: tuple[float, float, float, float], font: str) -> None:
    x0, y0, w, h = box
    district = conn.execute(DISTRICT).fetchone()
    existing = conn.execute(EXISTING, {"kind": row["kind"]}).fetchall()
    geom = shapely.from_wkb(district[0]) if district else None
    pts = [(s["lon"], s["lat"]) for s in row["sites"]]
    bounds = geom.bounds if geom is not None else shapely.MultiPoint(pts + existing or [(0, 0)]).bounds
    kx = math.cos(math.radians((bounds[1] + bounds[3]) / 2))
    scale = min(w / max((bounds[2] - bounds[0]) * kx, 1e-9), h / max(bounds[3] - bounds[1], 1e-9))

    def xy(lon: float, lat: float) -> tuple[float, float]:
        return x0 + (lon - bounds[0]) * kx * scale, y0 + (lat - bounds[1]) * scale

    if geom is not None:
        c.setStrokeColorRGB(0.3, 0.3, 0.3)
        for poly in getattr(geom, "geoms", [geom]):
            path = c.beginPath()
            for n, (lon, lat) in enumerate(poly.exterior.coords):
                (path.moveTo if n == 0 else path.lineTo)(*xy(lon, lat))
            c.drawPath(path, stroke=1, fill=0)
    c.setFillColorRGB(0.55, 0.6, 0.7)
    for lon, lat in existing:
        c.circle(*xy(lon, lat), 1.6, stroke=0, fill=1)
    c.setFillColorRGB(0.85, 0.1, 0.1)
    for lon, lat in pts:
        c.circle(*xy(lon, lat), 3.5, stroke=0, fill=1)
    c.setFillColorRGB(0, 0, 0)
    c.setFont(font, 9)
    c.drawString(x0, y0 - 14, "● 红：新增站点 proposed   ● 灰：现有设施 existing   ↑ 北 N")
