"""The desk's pages: my queue, and the collection page (articles, reviewers' progress,
pasting and uploading articles, assigning reviewers)."""
