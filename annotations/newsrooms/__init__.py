"""Newsrooms, their members, roles and sessions, their taxonomies and collections."""
