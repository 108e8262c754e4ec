"""The records partners see, built one way for exports, the API and webhooks (JSON,
ClaimReview, Web Annotation, public URLs), and the public pages."""
