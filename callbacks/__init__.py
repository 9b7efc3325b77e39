"""Dash callbacks: thin — parse inputs, one call into ``layers``, return props.

Callback modules never import the app (or ``app.ids``): the app factory passes its ids
module to :func:`register`, which registers every callback with ``dash.callback`` for the
app being built.
"""

from __future__ import annotations

from callbacks import (
    case_drawer,
    case_report,
    case_stats,
    cases,
    density,
    detail,
    editor,
    editor_history,
    planner,
    risk,
    screen,
    screen_export,
    search,
    theme,
    viewport,
    warnings,
)


def register(ids) -> None:
    """Register all dashboard callbacks against the component ids in ``ids``."""
    for module in (viewport, detail, search, theme, cases, case_drawer, case_report, case_stats, planner, warnings,
                   editor, editor_history, risk, density, screen, screen_export):
        module.register(ids)
