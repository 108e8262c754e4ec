"""Webhooks: partners' addresses, signed deliveries written with the change they report,
sent to public addresses only, retried with backoff."""
