"""Catalog tools for operators: publish a price list from a file (a release pipeline)."""
