"""Test data every database test starts from: the demo price list, accounts, a partner."""

from __future__ import annotations

from sqlalchemy import text

from app.container import Container
from app.db.models import AccountRow, Base, PartnerRow
from app.db.unit_of_work import UnitOfWork
from app.sandbox.demo_catalog import demo_price_list


async def empty_database(container: Container) -> None:
    """Empty every table, and forget the price list this process had in memory."""
    tables = [table.name for table in reversed(Base.metadata.sorted_tables)]
    async with container.engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            await connection.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                await connection.execute(text(f"DELETE FROM {table}"))
    container.catalog.invalidate()
    container.plans_body = None


async def reset_database(container: Container) -> None:
    """Empty every table, then store the demo price list, three accounts and a partner."""
    await empty_database(container)
    async with UnitOfWork(container.sessionmaker) as uow:
        await uow.catalog.add(demo_price_list())
        uow.session.add_all(
            [
                AccountRow(id="acc-1", name="Mario Rossi", email="mario@example.it"),
                AccountRow(id="acc-2", name="Studio Bianchi", email="studio@example.it"),
                AccountRow(id="acc-p", name="Anna Neri", email="anna@example.com", language="en"),
                PartnerRow(id="ptn-1", name="Web Reseller", credit_cents=10_000),
            ]
        )
        await uow.commit()
