"""Per-feature string catalogues merged into :data:`app.i18n.STRINGS` at import.

One module per feature page (``STRINGS = {"zh": {...}, "en": {...}}``), so features add their
text without touching each other's.
"""
