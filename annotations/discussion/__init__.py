"""The desk's discussion: threads on claims, verified claims and articles, mentions,
requests for changes, and each collection's activity."""
