"""OneGrid geodata package."""
