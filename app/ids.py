"""Every Dash component id of the dashboard, in one place (callbacks import them from here
through the page contract: the page and the callbacks agree on these names)."""

ROOT = "og-root"
STRINGS = "og-strings"
LANG = "og-lang"
TOAST = "og-toast"

SEARCH = "og-search"
THEME_TOGGLE = "og-theme-toggle"
LANG_LINK = "og-lang-link"

LAYERS = "og-layers"
GRID_METRIC = "og-grid-metric"
FACILITY_KINDS = "og-facility-kinds"
LEGEND = "og-legend"
ZOOM_INFO = "og-zoom-info"

MAP = "og-map"
DISTRICT = "og-district"
ROADS = "og-roads"
OUTLINE_DISTRICT = "og-outline-district"
OUTLINE_STREET = "og-outline-street"
OUTLINE_COMMUNITY = "og-outline-community"
GRIDS = "og-grids"
ADDRESS_CELLS = "og-address-cells"
ADDRESS_POINTS = "og-address-points"
FACILITIES = "og-facilities"
SELECTION = "og-selection"

DETAIL_PANEL = "og-detail-panel"
DETAIL_BODY = "og-detail-body"
DETAIL_CLOSE = "og-detail-close"
