"""OneGrid layers package."""
