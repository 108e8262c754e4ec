"""Adjudication into verified claims, their history, publishing rules, corrections and
retractions, and the claims checked before that are worded alike."""
