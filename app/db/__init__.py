"""Persistence: SQLAlchemy models, repositories, the unit of work, mappers to the domain."""
