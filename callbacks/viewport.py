"""Viewport callback: the map moved or a layer option changed → data for every layer."""

from __future__ import annotations

import dash
from dash import Input, Output, State, no_update

from callbacks.errors import error_toast, toast
from layers.cases import parse_filter
from layers.grids import CASE_METRICS
from layers.viewport import LAYERS, LayerRequest, build_viewport

#: Output keys of :func:`layers.viewport.build_viewport`, in the order of the outputs below.
DATA_KEYS = ("district", "roads", "outline_district", "outline_street", "outline_community",
             "grids", "address_cells", "address_points", "facilities")


def update_layers(bounds, layers, metric, kinds, zoom, t, lang, case_filter=None) -> tuple:
    """Plain function behind the callback: returns (data × 9, outline hideouts × 2, legend,
    zoom text, toast). On failure the map keeps what it shows and the toast says why.
    ``case_filter`` is the page's case filter store (used by the case grid metrics)."""
    try:
        request = LayerRequest(
            layers=tuple(x for x in (layers or []) if x in LAYERS),
            metric=metric or "households",
            kinds=tuple(kinds) if kinds is not None else None,
            lang=lang or "zh",
            case_filter=parse_filter(case_filter) if metric in CASE_METRICS else None,
        )
        out = build_viewport(bounds, zoom, request, t)
    except Exception as exc:  # noqa: BLE001 - every failure becomes a message (see error_toast)
        return (*(no_update,) * (len(DATA_KEYS) + 4), error_toast(exc, t))
    notice = toast(t["truncated"], "info") if out["truncated"] else no_update
    zoom_text = f"{t['zoom']} {out['view']['zoom']:.0f}"
    hideout = out["outline_hideout"]
    return (*(out[k] for k in DATA_KEYS), hideout, hideout, out["legend"], zoom_text, notice)


def register(ids) -> None:
    data_ids = (ids.DISTRICT, ids.ROADS, ids.OUTLINE_DISTRICT, ids.OUTLINE_STREET, ids.OUTLINE_COMMUNITY,
                ids.GRIDS, ids.ADDRESS_CELLS, ids.ADDRESS_POINTS, ids.FACILITIES)
    dash.callback(
        [Output(i, "data") for i in data_ids]
        + [Output(ids.OUTLINE_STREET, "hideout"), Output(ids.OUTLINE_COMMUNITY, "hideout"),
           Output(ids.LEGEND, "children"), Output(ids.ZOOM_INFO, "children"),
           Output(ids.TOAST, "children", allow_duplicate=True)],
        Input(ids.MAP, "bounds"),
        Input(ids.LAYERS, "value"),
        Input(ids.GRID_METRIC, "value"),
        Input(ids.FACILITY_KINDS, "value"),
        State(ids.MAP, "zoom"),
        State(ids.STRINGS, "data"),
        State(ids.LANG, "data"),
        Input(ids.CASE_FILTER, "data"),
        prevent_initial_call="initial_duplicate",
    )(update_layers)
