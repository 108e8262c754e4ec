"""Benchmarks: one script per benchmark, each runnable as `python -m bench.<name>`.

A benchmark prints figures against the issue's targets; it is not a test and
never fails on a slow number.
"""

from __future__ import annotations
