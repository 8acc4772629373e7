"""Emptying a whole database: the sandbox's fresh start (and the tests' clean slate).

Dangerous by nature, so the one caller in the app (app/sandbox/fresh_start.py) first asks
`other_publishers` whether the database is anybody else's.
"""

from __future__ import annotations

from sqlalchemy import or_, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

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
    tables = [table.name for table in reversed(Base.metadata.sorted_tables)]
    async with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            await connection.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                await connection.execute(text(f"DELETE FROM {table}"))
