"""OneGrid app package."""
