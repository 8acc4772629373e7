"""The few statements that are spelled differently on PostgreSQL and SQLite."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.dml import Insert


def insert_or_ignore(session: AsyncSession, table: Table, values: dict[str, Any]) -> Insert:
    """INSERT … ON CONFLICT DO NOTHING: the database, not a read-then-write, decides
    which of two concurrent writers wins."""
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(table).values(values).on_conflict_do_nothing()
    return sqlite.insert(table).values(values).on_conflict_do_nothing()
