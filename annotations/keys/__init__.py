"""API keys: made with their secret shown once, stored hashed, scoped, revocable."""
