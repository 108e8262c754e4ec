"""The reader: reviewers' assignments and the claims they highlight, with verdicts and
sources, shown over the article text; blind review until they submit."""
