"""Agreement between reviewers: did they mark the same claims, and do their verdicts agree.

`matching` (spans matched across reviewers into units; precision, recall,
F1) and `reliability` (Krippendorff's alpha from coincidence matrices with
a bootstrap interval, Cohen's kappa, percent agreement, confusion matrices)
are pure: numpy, no Django, checked against reference libraries and
published examples. Every count and matrix there adds up across articles,
so `contributions` counts and stores each article's part, `sums` adds the
parts up, `summary` turns the sums into the report, and `runs` drives it, in
Celery chunks for a collection or one article at a time as claims change.
"""
