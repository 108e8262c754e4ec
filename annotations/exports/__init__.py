"""Exports of verified claims: which claims, the writers (CSV by COPY, JSONL, ClaimReview,
Web Annotation, the HTML/PDF report), and the jobs that write them."""
