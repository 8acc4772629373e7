"""Test data every database test starts from: the demo price list, accounts, a partner."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from app.container import Container
from app.db.catalog_repository import CatalogRepository
from app.db.emptying import empty_tables
from app.db.models import AccountRow, CreditMovementRow, PartnerRow
from app.sandbox.demo_catalog import demo_price_list

SEEDED_AT = datetime(2026, 11, 1, tzinfo=UTC)  # before any test's clock


async def empty_database(container: Container) -> None:
    """Empty every table, and forget the price list this process had in memory."""
    async with container.engine.begin() as connection:
        await empty_tables(connection)
    _forget_cached_catalog(container)


async def reset_database(container: Container) -> None:
    """Empty every table, then store the demo price list, three accounts and a partner.

    One transaction on one connection: it runs before each of hundreds of tests.
    """
    async with container.engine.begin() as connection:
        await empty_tables(connection)
        session = AsyncSession(bind=connection, expire_on_commit=False)
        await CatalogRepository(session).add(demo_price_list())
        session.add_all(
            [
                AccountRow(id="acc-1", name="Mario Rossi", email="mario@example.it"),
                AccountRow(id="acc-2", name="Studio Bianchi", email="studio@example.it"),
                AccountRow(id="acc-p", name="Anna Neri", email="anna@example.com", language="en"),
                PartnerRow(id="ptn-1", name="Web Reseller", credit_cents=10_000),
            ]
        )
        await session.flush()
        # The partner's credit came from a top-up, as every credit does: the ledger
        # explains the balance from the first line.
        session.add(
            CreditMovementRow(
                partner_id="ptn-1",
                kind="top_up",
                amount_cents=10_000,
                balance_after_cents=10_000,
                created_at=SEEDED_AT,
            )
        )
        await session.flush()
        await session.close()
    _forget_cached_catalog(container)


def _forget_cached_catalog(container: Container) -> None:
    container.catalog.invalidate()
    container.plans_body = None
