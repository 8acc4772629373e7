"""HTTP: thin handlers, pydantic schemas, problem+json errors."""
