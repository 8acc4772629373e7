"""Version 1 of the API: breaking changes go to /v2 beside it, never here."""
