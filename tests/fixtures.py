"""Test data every database test starts from: the demo price list, accounts, a partner."""

from __future__ import annotations

from app.container import Container
from app.db.emptying import empty_every_table
from app.db.models import AccountRow, PartnerRow
from app.db.unit_of_work import UnitOfWork
from app.sandbox.demo_catalog import demo_price_list


async def empty_database(container: Container) -> None:
    """Empty every table, and forget the price list this process had in memory."""
    await empty_every_table(container.engine)
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
