"""``/print``: the print sheet of a map snapshot (what ``onegrid snapshot`` and the export
buttons capture in headless Chromium).

The page takes a snapshot specification as query parameters (see
:mod:`layers.screen_spec`) and draws, with the command map's own layer builders, styles and
JS: title, subtitle (time and filters), the map at the exact extent, scale bar, north arrow,
the legend of every visible layer, data source and coordinate system. Everything is inlined
in the layout (no callbacks), so the sheet is complete as soon as it is drawn.
"""

from __future__ import annotations

import logging

import dash
import dash_leaflet as dl
from dash import html
from dash_extensions.javascript import Namespace

from app.i18n import strings
from geodata.errors import OneGridError
from geodata.settings import get_settings
from layers.basemap import build_tile_layer
from layers.screen_print import build_sheet
from layers.screen_spec import parse_spec

# The tab title in the server's language (a sheet's own language is in its spec, not known here).
dash.register_page(__name__, path="/print", name="Print sheet",
                   title=lambda: f"OneGrid {strings(get_settings().lang)['print_title_suffix']}")

log = logging.getLogger(__name__)
ns = Namespace("onegrid", "map")
cases_ns = Namespace("onegrid", "cases")
warn_ns = Namespace("onegrid", "warn")
heat_ns = Namespace("onegrid", "heat")
dens_ns = Namespace("onegrid", "density")

#: North arrow (SVG, drawn in the text colour of the theme).
_NORTH = ("data:image/svg+xml;utf8,<svg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 40 60'>"
          "<polygon points='20,4 32,44 20,36 8,44' fill='%23e8f1ff' stroke='%23050a14' stroke-width='2'/>"
          "<polygon points='20,4 20,36 8,44' fill='%2339c5ff'/>"
          "<text x='20' y='58' font-size='14' font-family='sans-serif' text-anchor='middle' fill='%23e8f1ff' "
          "stroke='%23050a14' stroke-width='0.6'>N</text></svg>")


def _geojson(data: dict, **kwargs) -> dl.GeoJSON:
    return dl.GeoJSON(data=data, **kwargs)


def sheet_map(sheet: dict) -> dl.Map:
    """The command map's panes and styles (see :mod:`app.pages.home`), with inlined data."""
    d = sheet["data"]
    hide = d["outline_hideout"]
    children = [
        *build_tile_layer(),
        dl.Pane(_geojson(d["district"], style=ns("districtStyle"), interactive=False), name="og-base",
                style={"zIndex": 250}),
        dl.Pane(_geojson(d["grids"], style=ns("gridStyle"), hideout={}), name="og-grids", style={"zIndex": 400}),
        dl.Pane(_geojson(d["roads"], style=ns("roadStyle"), interactive=False), name="og-roads",
                style={"zIndex": 410}),
        # The command map's risk panes (app.warn_layout.map_layers).
        dl.Pane(_geojson(d["risk_heat"], pointToLayer=heat_ns("pointToLayer"), interactive=False), name="og-risk-heat",
                style={"zIndex": 405}),
        dl.Pane(_geojson(d["risk_cells"], style=warn_ns("riskStyle")), name="og-risk-cells", style={"zIndex": 415}),
        # The command map's density pane (app.density_layout.map_layer): published counts only.
        dl.Pane(_geojson(d["density"], style=dens_ns("cellStyle")), name="og-density", style={"zIndex": 415}),
        dl.Pane(_geojson(d["address_cells"], style=ns("cellStyle")), name="og-cells", style={"zIndex": 420}),
        dl.Pane([
            _geojson(d["outline_community"], style=ns("outlineStyle"), hideout=hide, onEachFeature=ns("areaLabel")),
            _geojson(d["outline_street"], style=ns("outlineStyle"), hideout=hide, onEachFeature=ns("areaLabel")),
            _geojson(d["outline_district"], style=ns("outlineStyle"), hideout={"fill": False}),
        ], name="og-outlines", style={"zIndex": 450}),
        _geojson(d["address_points"], cluster=True, pointToLayer=ns("addressPoint"),
                 clusterToLayer=ns("addressCluster"), superClusterOptions={"radius": 90, "maxZoom": 18}),
        _geojson(d["facilities"], pointToLayer=ns("facilityMarker"), hideout={"kinds": sheet["kind_styles"]}),
        # Same clustering as the live layer (app.case_layout.case_layer), so the sheet matches.
        _geojson(d["cases"], cluster=True, pointToLayer=cases_ns("casePoint"), clusterToLayer=cases_ns("caseCluster"),
                 hideout={"selected": None}, superClusterOptions={"radius": 60, "maxZoom": 15}),
        # Same as the live sensor layer (app.warn_layout.map_layers).
        _geojson(d["sensors"], cluster=True, pointToLayer=warn_ns("sensorPoint"), clusterToLayer=warn_ns("sensorCluster"),
                 hideout={"kinds": sheet["sensor_kinds"]}, superClusterOptions={"radius": 50, "maxZoom": 14}),
        dl.ScaleControl(position="bottomleft", metric=True, imperial=False, maxWidth=max(120, sheet["layout"]["map"][0] // 5)),
    ]
    w, h = sheet["layout"]["map"]
    return dl.Map(children, center=sheet["center"], zoom=sheet["zoom"], zoomSnap=0, zoomControl=False,
                  attributionControl=False, fadeAnimation=False, zoomAnimation=False, markerZoomAnimation=False,
                  dragging=False, scrollWheelZoom=False, doubleClickZoom=False, keyboard=False, minZoom=0, maxZoom=22,
                  className="og-map og-sheet-leaflet", style={"width": f"{w}px", "height": f"{h}px"})


def map_box(sheet: dict, extra_class: str = "") -> html.Div:
    """The sheet's map with its north arrow, in a box of the map's exact pixel size."""
    w, h = sheet["layout"]["map"]
    return html.Div([sheet_map(sheet), html.Img(src=_NORTH, className="og-north", alt="N")],
                    className=f"og-sheet-map {extra_class}".strip(), style={"width": f"{w}px", "height": f"{h}px"})


def _sheet(sheet: dict, t: dict) -> html.Div:
    lay = sheet["layout"]
    legend_style = ({"width": f"{lay['legend_size']}px"} if lay["legend"] == "right"
                    else {"height": f"{lay['legend_size']}px"})
    notes = [html.Div(t["print_truncated"], className="og-sheet-note")] if sheet["truncated"] else []
    return html.Div([
        html.Header([html.H1(sheet["title"], className="og-sheet-title"),
                     html.Div(sheet["subtitle"], className="og-sheet-subtitle")],
                    className="og-sheet-head", style={"height": f"{lay['header']}px"}),
        html.Div([
            map_box(sheet),
            html.Aside([html.Div(t["legend"], className="og-panel-title"), *sheet["legend"], *notes],
                       className=f"og-sheet-legend og-sheet-legend-{lay['legend']}", style=legend_style),
        ], className=f"og-sheet-body og-sheet-body-{lay['legend']}"),
        html.Footer(sheet["source"], className="og-sheet-foot", style={"height": f"{lay['footer']}px"}),
    ], className="og-sheet", style={"width": f"{lay['width']}px", "height": f"{lay['height']}px",
                                    "padding": f"{lay['margin']}px", "--sf": f"{lay['font']}px",
                                    "gap": f"{lay['margin']}px" if lay["legend"] == "bottom" else "0"})


def layout(**query) -> html.Div:
    """The sheet for the snapshot given by the query string; a readable error sheet when the
    specification is bad or the database is down (the capture then reports that message)."""
    lang = query.get("lang") if query.get("lang") in ("zh", "en") else "zh"
    theme = query.get("theme") if query.get("theme") in ("dark", "light") else "dark"
    t = strings(lang)
    try:
        spec = parse_spec(query)
        sheet = build_sheet(spec, t)
    except OneGridError as exc:
        log.warning("print sheet refused: %s", exc.message)
        return html.Div(html.Div(exc.message, id="og-print-error", className="og-sheet-error"),
                        className=f"og-root og-theme-{theme}")
    return html.Div(_sheet(sheet, t), id="og-print-root",
                    className=f"og-root og-print og-theme-{spec.theme} og-lang-{spec.lang}",
                    lang="zh-CN" if spec.lang == "zh" else "en")
