"""Use cases: load through repositories, call the domain, commit once."""
