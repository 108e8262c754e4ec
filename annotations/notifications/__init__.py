"""Notifications: each person's inbox with its unread count, and the emails (at once
or in a daily digest) for mentions and requests for changes."""
