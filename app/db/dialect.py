"""The few statements that are spelled differently on PostgreSQL and SQLite."""

from __future__ import annotations

from functools import cache

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.dml import Insert


def insert_or_ignore(session: AsyncSession, table: Table) -> Insert:
    """INSERT … ON CONFLICT DO NOTHING, values given at execution.

    The database, not a read-then-write, decides which of two concurrent writers wins.
    Built once per dialect and table so SQLAlchemy's compiled cache always hits.
    """
    return _insert_or_ignore(session.get_bind().dialect.name, table)


@cache
def _insert_or_ignore(dialect_name: str, table: Table) -> Insert:
    if dialect_name == "postgresql":
        return postgresql.insert(table).on_conflict_do_nothing()
    return sqlite.insert(table).on_conflict_do_nothing()
