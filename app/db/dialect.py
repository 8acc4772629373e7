"""The few statements that are spelled differently on PostgreSQL and SQLite."""

from __future__ import annotations

from functools import cache

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.dml import Insert


def insert_or_ignore(session: AsyncSession, table: Table, on: str | None = None) -> Insert:
    """INSERT … ON CONFLICT DO NOTHING, values given at execution.

    The database, not a read-then-write, decides which of two concurrent writers wins.
    With `on`, only a conflict on that column is ignored; any other still raises.
    Built once per dialect and table so SQLAlchemy's compiled cache always hits.
    """
    return _insert_or_ignore(session.get_bind().dialect.name, table, on)


@cache
def _insert_or_ignore(dialect_name: str, table: Table, on: str | None) -> Insert:
    target = [on] if on else None
    if dialect_name == "postgresql":
        return postgresql.insert(table).on_conflict_do_nothing(index_elements=target)
    return sqlite.insert(table).on_conflict_do_nothing(index_elements=target)
