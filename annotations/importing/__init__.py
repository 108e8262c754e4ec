"""Articles in: parsers for files, the import services and upload jobs, new versions
with their claims re-anchored, and claims brought in from another tool."""
