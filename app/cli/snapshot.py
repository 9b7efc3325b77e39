"""``onegrid snapshot`` (map as PNG/PDF) and ``onegrid briefing`` (daily briefing PDF).

Snapshots are drawn by the dashboard's own print page in headless Chromium; the command
serves the dashboard on a loopback port for the time it takes.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

from tqdm import tqdm

from app.snapshot.service import local_dashboard, render_briefing, render_snapshot
from geodata.errors import InvalidInput
from layers.cases import WINDOWS
from layers.screen_spec import (
    DENSITY_METRICS,
    LAYERS_ALL,
    MAX_DPI,
    METRICS,
    ORIENTATIONS,
    RISK_WINDOWS,
    SIZES,
    parse_spec,
)

STAGES = ("open", "draw", "write")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("snapshot", help="export the map as PNG or PDF (title, legend, scale bar, north arrow)",
                       description="Render the command map for an extent as PNG or PDF on the server (headless "
                                   "Chromium). The format follows --out's extension.")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--bbox", metavar="MINLON,MINLAT,MAXLON,MAXLAT",
                       help="extent in EPSG:4326 degrees (default: the whole district); write --bbox=… if it "
                            "starts with a minus sign")
    where.add_argument("--street", metavar="CODE", help="a street/town's extent (9-digit code)")
    p.add_argument("--layers", default="outlines,grids,facilities,roads,cases",
                   help=f"comma-separated: {', '.join(LAYERS_ALL)}")
    p.add_argument("--metric", choices=METRICS, default="households", help="grid colouring")
    p.add_argument("--kinds", help="facility kinds, comma-separated (default: the map's first choice)")
    p.add_argument("--window", choices=WINDOWS, default="7d", help="case time window")
    p.add_argument("--density-tag", default="*",
                   help="density layer: one key-population tag code (default *: all residents)")
    p.add_argument("--density-metric", choices=DENSITY_METRICS, default="count", help="density layer: people or per km²")
    p.add_argument("--risk-window", choices=RISK_WINDOWS, default="7d", help="risk layers: time window")
    for name in ("states", "categories", "channels", "streets"):
        p.add_argument(f"--{name}", help=f"case filter: {name}, comma-separated")
    p.add_argument("--size", choices=SIZES, default="A4", help="sheet size (screen = --width × --height pixels)")
    p.add_argument("--orientation", choices=ORIENTATIONS, default="landscape")
    p.add_argument("--dpi", type=int, default=150, help=f"resolution for paper sizes, 72..{MAX_DPI}")
    p.add_argument("--width", type=int, default=1920, help="screen size width in pixels")
    p.add_argument("--height", type=int, default=1080, help="screen size height in pixels")
    p.add_argument("--title", default="", help="title (default: the place and 指挥地图)")
    p.add_argument("--lang", choices=("zh", "en"), default="zh")
    p.add_argument("--theme", choices=("dark", "light"), default="dark")
    p.add_argument("--out", required=True, help="output file, .png or .pdf")
    p.set_defaults(func=cmd_snapshot)

    b = sub.add_parser("briefing", help="the daily briefing PDF (KPIs, map of today's cases, hotspots, overdue)")
    b.add_argument("--street", metavar="CODE", help="one street/town (default: the whole district)")
    b.add_argument("--lang", choices=("zh", "en"), default="zh")
    b.add_argument("--theme", choices=("dark", "light"), default="light")
    b.add_argument("--out", required=True, help="output .pdf file")
    b.set_defaults(func=cmd_briefing)


def _format(out: str, allowed: tuple[str, ...]) -> str:
    ext = Path(out).suffix.lower().lstrip(".")
    if ext not in allowed:
        raise InvalidInput(f"{out}: the file must end in {' or '.join('.' + a for a in allowed)}")
    if not Path(out).resolve().parent.is_dir():
        raise InvalidInput(f"{Path(out).parent}: no such directory")
    return ext


def _write(out: str, data: bytes) -> None:
    """Write next to the target and move into place (no half-written file on failure)."""
    target = Path(out)
    fd, tmp = tempfile.mkstemp(prefix=".onegrid-", suffix=target.suffix, dir=target.resolve().parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, target)
    finally:
        Path(tmp).unlink(missing_ok=True)


def _bar(desc: str):
    bar = tqdm(total=len(STAGES), desc=desc, unit="step", file=sys.stderr, leave=False)
    return bar, (lambda stage: (bar.set_postfix_str(stage), bar.update(1 if stage != STAGES[0] else 0)))


def cmd_snapshot(args) -> int:
    fmt = _format(args.out, ("png", "pdf"))
    query = {k: getattr(args, k) for k in ("bbox", "street", "layers", "metric", "kinds", "window", "states",
                                            "categories", "channels", "streets", "size", "orientation", "dpi",
                                            "width", "height", "title", "lang", "theme", "density_tag",
                                            "density_metric", "risk_window")}
    spec = parse_spec(query | {"format": fmt})
    bar, step = _bar(f"snapshot {Path(args.out).name}")
    try:
        with local_dashboard() as url:
            shot = render_snapshot(spec, url, progress=step)
        bar.update(1)
    finally:
        bar.close()
    _write(args.out, shot.data)
    print(f"{args.out}: {fmt.upper()} {shot.pixels[0]}×{shot.pixels[1]} px, {len(shot.data):,} bytes "
          f"in {shot.seconds:.1f} s")
    return 0


def cmd_briefing(args) -> int:
    _format(args.out, ("pdf",))
    bar, step = _bar(f"briefing {Path(args.out).name}")
    try:
        with local_dashboard() as url:
            shot = render_briefing(url, street=args.street, lang=args.lang, theme=args.theme, progress=step)
        bar.update(1)
    finally:
        bar.close()
    _write(args.out, shot.data)
    print(f"{args.out}: briefing PDF, {len(shot.data):,} bytes in {shot.seconds:.1f} s")
    return 0
