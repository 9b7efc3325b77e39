"""OneGrid callbacks package."""
