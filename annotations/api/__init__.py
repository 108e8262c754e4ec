"""The REST API under /api/v1/: partners read published claims, members work."""
