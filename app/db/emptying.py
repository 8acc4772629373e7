"""Emptying a whole database: the sandbox's fresh start (and the tests' clean slate).

Dangerous by nature, so the one caller in the app (app/sandbox/fresh_start.py) first asks
`other_publishers` whether the database is anybody else's.
"""

from __future__ import annotations

from sqlalchemy import Integer, or_, select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from app.db.models import Base, PriceListRow


async def other_publishers(engine: AsyncEngine, publisher: str) -> list[str]:
    """Who, besides `publisher`, published a price list here: a real database has some."""
    query = (
        select(PriceListRow.published_by)
        .where(or_(PriceListRow.published_by.is_(None), PriceListRow.published_by != publisher))
        .distinct()
    )
    async with engine.connect() as connection:
        return [name or "(unknown)" for name in (await connection.scalars(query))]


async def empty_every_table(engine: AsyncEngine) -> None:
    """Delete every row of every table the models know (the schema and its version stay)."""
    async with engine.begin() as connection:
        await empty_tables(connection)


async def empty_tables(connection: AsyncConnection) -> None:
    """Delete every row, children before parents, and start every numbered id from 1 again.

    DELETE rather than TRUNCATE: on the few rows a sandbox or a test holds, DELETE takes a
    few milliseconds where TRUNCATE, which gives every table and index a new file, takes a
    tenth of a second (the tests empty the database before each of hundreds of tests).
    """
    for table in reversed(Base.metadata.sorted_tables):
        await connection.execute(table.delete())
    if connection.dialect.name == "postgresql" and _NUMBERED:
        restarts = ", ".join(
            f"setval(pg_get_serial_sequence('{table}', '{column}'), 1, false)"
            for table, column in _NUMBERED
        )
        await connection.execute(text(f"SELECT {restarts}"))


# (table, column) of every id the database numbers, as TRUNCATE ... RESTART IDENTITY restarted.
_NUMBERED = [
    (table.name, column.name)
    for table in Base.metadata.sorted_tables
    for column in table.primary_key.columns
    if isinstance(column.type, Integer) and column.autoincrement is True
]
