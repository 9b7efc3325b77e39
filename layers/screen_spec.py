"""What a map snapshot shows and at what size: the print sheet's specification.

A :class:`SnapshotSpec` is the current map view (extent, zoom, visible layers, grid metric,
facility kinds, case filter, the overlays' own controls — density tag and metric, risk window
and playback frame —, language, theme) plus the sheet (screen / A4 / A3, portrait / landscape,
dpi) and the file format. It travels as URL query parameters (the print page, the download
route, the CLI all parse the same ones), so a snapshot is reproducible from its URL.

Extents are EPSG:4326 lon/lat degrees; sheet sizes are millimetres (paper) or CSS pixels
(96 per inch, Chromium's layout unit); the output pixel size is the paper size at ``dpi``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from urllib.parse import urlencode

from geodata.cases.model import CHANNELS, STATES
from geodata.errors import InvalidInput
from geodata.geometry import BBox, parse_bbox
from layers.cases import DEFAULT_WINDOW, WINDOWS
from layers.risk import FRAMES as RISK_FRAMES
from layers.viewport import DEFAULT_LAYERS, LAYERS

#: Paper sizes, portrait (width, height) in millimetres.
PAPER_MM = {"A4": (210, 297), "A3": (297, 420)}
SIZES = ("screen", *PAPER_MM)
ORIENTATIONS = ("portrait", "landscape")
FORMATS = ("pdf", "png")
METRICS = ("households", "addresses", "cases", "overdue_rate")
RISK_WINDOWS = ("24h", "7d", "30d")
DENSITY_METRICS = ("count", "per_km2")
CSS_DPI = 96
MAX_DPI = 300
MIN_DPI = 72
#: Largest screen-size snapshot (a 4K wall), CSS pixels.
MAX_SCREEN_PX = (3840, 2160)
#: Layers a snapshot can show: the map's own (:data:`layers.viewport.LAYERS`) and the
#: key-population density overlay (its own controls on the map page).
LAYERS_ALL: tuple[str, ...] = (*LAYERS, "density")


@dataclass(frozen=True)
class SnapshotSpec:
    """One snapshot: view, layers, filters and sheet. ``bbox`` or ``street`` gives the extent
    (neither: the whole district); ``kinds`` None = every facility kind. ``zoom`` is the
    Leaflet zoom of the screen the snapshot is taken from (None: fitted to the sheet); the
    aggregated overlays take their resolution and colour classes from that screen view, so the
    sheet shows the screen's hexagons in the screen's colours. ``density_tag`` ``"*"`` = all
    residents; ``risk_frame`` None = now (else 0..RISK_FRAMES-1 through the window)."""

    bbox: BBox | None = None
    street: str | None = None
    layers: tuple[str, ...] = tuple(DEFAULT_LAYERS)
    metric: str = "households"
    kinds: tuple[str, ...] | None = None
    states: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    channels: tuple[str, ...] = ()
    streets: tuple[str, ...] = ()
    window: str = DEFAULT_WINDOW
    risk_window: str = "7d"
    risk_frame: int | None = None
    density_tag: str = "*"
    density_metric: str = "count"
    zoom: float | None = None
    lang: str = "zh"
    theme: str = "dark"
    size: str = "A4"
    orientation: str = "landscape"
    dpi: int = 150
    width: int = 1920
    height: int = 1080
    title: str = ""
    fmt: str = "pdf"
    extra: dict = field(default_factory=dict, compare=False)

    def case_filter(self) -> dict:
        """The case filter as the map page's filter store holds it."""
        return {"states": list(self.states), "categories": list(self.categories), "channels": list(self.channels),
                "streets": list(self.streets), "window": self.window}

    def to_query(self) -> dict:
        """Query parameters that :func:`parse_spec` reads back to an equal spec."""
        q = {"layers": ",".join(self.layers), "metric": self.metric, "window": self.window,
             "risk_window": self.risk_window, "density_tag": self.density_tag,
             "density_metric": self.density_metric, "lang": self.lang,
             "theme": self.theme, "size": self.size, "orientation": self.orientation, "dpi": self.dpi,
             "format": self.fmt}
        if self.bbox is not None:
            q["bbox"] = ",".join(f"{v:.7f}" for v in self.bbox.as_tuple())
        if self.street:
            q["street"] = self.street
        if self.zoom is not None:
            q["zoom"] = f"{self.zoom:.3f}"
        if self.risk_frame is not None:
            q["risk_frame"] = self.risk_frame
        if self.kinds is not None:
            q["kinds"] = ",".join(self.kinds)
        for name in ("states", "categories", "channels", "streets"):
            if getattr(self, name):
                q[name] = ",".join(getattr(self, name))
        if self.size == "screen":
            q["width"], q["height"] = self.width, self.height
        if self.title:
            q["title"] = self.title
        return q

    def query_string(self) -> str:
        return urlencode(self.to_query())


def _list(value) -> tuple[str, ...]:
    if value is None:
        return ()
    items = value if isinstance(value, list | tuple) else str(value).split(",")
    return tuple(s.strip() for s in items if s and str(s).strip())


def _choice(name: str, value, allowed, default):
    if value in (None, ""):
        return default
    if value not in allowed:
        raise InvalidInput(f"{name} must be one of {', '.join(allowed)}, got {value!r}")
    return value


def _int(name: str, value, low: int, high: int, default: int) -> int:
    if value in (None, ""):
        return default
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise InvalidInput(f"{name} must be a whole number, got {value!r}") from None
    if not low <= number <= high:
        raise InvalidInput(f"{name} must be within {low}..{high}, got {number}")
    return number


def _subset(name: str, values: tuple[str, ...], allowed) -> tuple[str, ...]:
    bad = [v for v in values if v not in allowed]
    if bad:
        raise InvalidInput(f"unknown {name} {', '.join(map(repr, bad))}; use {', '.join(allowed)}")
    return values


def _frame(value) -> int | None:
    """A playback frame; the last one (now) is None so the spec of "now" is one spec."""
    frame = _int("risk_frame", value, 0, RISK_FRAMES - 1, RISK_FRAMES - 1)
    return None if frame == RISK_FRAMES - 1 else frame


def _tag(value) -> str:
    """A population tag code (checked against the database when the sheet is drawn)."""
    tag = str(value or "*").strip() or "*"
    if tag != "*" and not tag.replace("_", "").isalnum():
        raise InvalidInput(f"density_tag must be a population tag code, got {tag!r}")
    return tag


def _zoom(value) -> float | None:
    if value in (None, ""):
        return None
    try:
        zoom = float(value)
    except (TypeError, ValueError):
        raise InvalidInput(f"zoom must be a number, got {value!r}") from None
    if not 0 <= zoom <= 22:
        raise InvalidInput(f"zoom must be within 0..22, got {zoom:g}")
    return zoom


def parse_spec(query: dict) -> SnapshotSpec:
    """A :class:`SnapshotSpec` from query parameters (strings, lists joined by commas).

    Raises InvalidInput / InvalidBBox naming the bad parameter; unknown parameters are ignored.
    """
    q = {k: v for k, v in (query or {}).items() if v is not None}
    size = {"a4": "A4", "a3": "A3"}.get(str(q.get("size", "")).lower(), q.get("size"))
    kinds = _list(q["kinds"]) if "kinds" in q else None
    return SnapshotSpec(
        bbox=parse_bbox(q["bbox"]) if q.get("bbox") else None,
        street=str(q["street"]).strip() or None if q.get("street") else None,
        layers=_subset("layer", _list(q.get("layers", ",".join(DEFAULT_LAYERS))), LAYERS_ALL),
        metric=_choice("metric", q.get("metric"), METRICS, "households"),
        kinds=kinds,
        states=_subset("state", _list(q.get("states")), STATES),
        categories=_list(q.get("categories")),
        channels=_subset("channel", _list(q.get("channels")), CHANNELS),
        streets=_list(q.get("streets")),
        window=_choice("window", q.get("window"), WINDOWS, DEFAULT_WINDOW),
        risk_window=_choice("risk_window", q.get("risk_window"), RISK_WINDOWS, "7d"),
        risk_frame=_frame(q.get("risk_frame")),
        density_tag=_tag(q.get("density_tag")),
        density_metric=_choice("density_metric", q.get("density_metric"), DENSITY_METRICS, "count"),
        zoom=_zoom(q.get("zoom")),
        lang=_choice("lang", q.get("lang"), ("zh", "en"), "zh"),
        theme=_choice("theme", q.get("theme"), ("dark", "light"), "dark"),
        size=_choice("size", size, SIZES, "A4"),
        orientation=_choice("orientation", q.get("orientation"), ORIENTATIONS, "landscape"),
        dpi=_int("dpi", q.get("dpi"), MIN_DPI, MAX_DPI, 150),
        width=_int("width", q.get("width"), 320, MAX_SCREEN_PX[0], 1920),
        height=_int("height", q.get("height"), 240, MAX_SCREEN_PX[1], 1080),
        title=str(q.get("title", ""))[:120],
        fmt=_choice("format", str(q.get("format", "pdf")).lower(), FORMATS, "pdf"),
    )



@dataclass(frozen=True)
class Sheet:
    """The sheet in CSS pixels and the output: ``css`` (w, h), ``scale`` (device pixels per CSS
    pixel), ``pixels`` (w, h of a PNG), ``paper_mm`` (w, h; None for screen) and ``dpi``."""

    css: tuple[int, int]
    scale: float
    pixels: tuple[int, int]
    paper_mm: tuple[int, int] | None
    dpi: int


def sheet_of(spec: SnapshotSpec) -> Sheet:
    """Sheet geometry for ``spec``: paper sizes at ``dpi`` (e.g. A4 at 300 dpi = 2480 × 3508
    px portrait), screen sizes at their CSS pixel size (scale 1)."""
    if spec.size == "screen":
        return Sheet((spec.width, spec.height), 1.0, (spec.width, spec.height), None, CSS_DPI)
    w_mm, h_mm = PAPER_MM[spec.size]
    if spec.orientation == "landscape":
        w_mm, h_mm = h_mm, w_mm
    # Rounded down so the sheet never spills onto a second PDF page; the PNG scale then
    # covers the exact pixel size (the capture crops the sub-pixel rest).
    css = (math.floor(w_mm / 25.4 * CSS_DPI), math.floor(h_mm / 25.4 * CSS_DPI))
    pixels = (round(w_mm / 25.4 * spec.dpi), round(h_mm / 25.4 * spec.dpi))
    return Sheet(css, max(pixels[0] / css[0], pixels[1] / css[1]), pixels, (w_mm, h_mm), spec.dpi)


def _merc_y(lat: float) -> float:
    return math.log(math.tan(math.pi / 4 + math.radians(lat) / 2))


def fit_zoom(bbox: BBox, width_px: float, height_px: float) -> tuple[float, float, float]:
    """Fractional Leaflet zoom and centre (lat, lon) that fit ``bbox`` (lon/lat degrees) into a
    map of ``width_px`` × ``height_px`` CSS pixels (Web Mercator, 256-px tiles) — what
    ``fitBounds`` with ``zoomSnap: 0`` and no padding computes. Returns (zoom, lat, lon)."""
    dlon = max(bbox.maxlon - bbox.minlon, 1e-9)
    dy = max(_merc_y(bbox.maxlat) - _merc_y(bbox.minlat), 1e-12)
    zoom = min(math.log2(width_px * 360 / (256 * dlon)), math.log2(height_px * 2 * math.pi / (256 * dy)))
    y = (_merc_y(bbox.maxlat) + _merc_y(bbox.minlat)) / 2
    lat = math.degrees(2 * math.atan(math.exp(y)) - math.pi / 2)
    return zoom, lat, (bbox.minlon + bbox.maxlon) / 2
