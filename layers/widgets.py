"""Dash components whose built-in text follows the page's language.

Dash 4's ``dcc.Dropdown`` draws its own English text (the search box's "Search", "Select All",
"No options found", …) unless its ``labels`` are given; every dropdown of the dashboard is made
here so none of them speaks English on a Chinese page. Leaflet's own control titles are
translated in ``assets/onegrid-i18n.js`` (they are JavaScript, not Dash props).
"""

from __future__ import annotations

from dash import dcc

#: ``dcc.Dropdown.labels`` key → catalogue key (``app/i18n_parts/widgets.py``).
_DROPDOWN_LABELS = {
    "select_all": "dd_select_all",
    "deselect_all": "dd_deselect_all",
    "selected_count": "dd_selected_count",
    "search": "dd_search",
    "clear_search": "dd_clear_search",
    "clear_selection": "dd_clear_selection",
    "no_options_found": "dd_no_options",
}


def dropdown_labels(t: dict) -> dict[str, str]:
    """``labels`` for a ``dcc.Dropdown`` in the language of the catalogue ``t``."""
    return {prop: t[key] for prop, key in _DROPDOWN_LABELS.items()}


def dropdown(t: dict, **props) -> dcc.Dropdown:
    """A ``dcc.Dropdown`` with ``props`` whose search box, buttons and messages use ``t``'s language
    (a ``labels`` prop overrides single texts, e.g. the search box's hint)."""
    labels = {**dropdown_labels(t), **props.pop("labels", {})}
    return dcc.Dropdown(labels=labels, **props)
