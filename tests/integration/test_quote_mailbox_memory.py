"""The insert of a quote priced from remembered mailboxes checks them, in the database.

Step by step, on PostgreSQL: a quote is priced from the memory, something happens to
the mailbox in another transaction, then the quote is offered to the store.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from sqlalchemy import text

from app.container import Container
from app.db.mailbox_memory import MailboxesSeen, MailboxMemory
from app.db.order_memory import OrderMemory
from app.db.pg_quote_store import AsyncpgQuoteStore
from app.db.placed_order_memory import PlacedOrderMemory
from app.db.process_memory import ProcessMemory
from app.db.quote_repository import QuoteRecord
from app.db.unit_of_work import UnitOfWork
from app.domain.access import Principal, Role
from app.domain.quote import RenewalItem, RenewalRequest, quote_renewal
from app.sandbox.demo_catalog import demo_price_list
from tests.conftest import START
from tests.integration.test_quote_stores import mailbox

OWNER = Principal(Role.CUSTOMER, "acc-1")


@asynccontextmanager
async def remembering_store(db: Container) -> AsyncIterator[AsyncpgQuoteStore]:
    if db.engine.dialect.name != "postgresql":
        pytest.skip("the mailboxes are remembered on PostgreSQL only")
    async with db.engine.connect() as connection:
        raw = await connection.get_raw_connection()
        yield AsyncpgQuoteStore(
            raw.driver_connection,
            ProcessMemory(MailboxMemory(), OrderMemory(), PlacedOrderMemory()),
        )


async def _seed(db: Container) -> None:
    async with UnitOfWork(db.sessionmaker) as uow:
        await uow.mailboxes.save(mailbox("mbx-a", "acc-1"), START)
        await uow.commit()


def _priced(seen: MailboxesSeen, number: int) -> QuoteRecord:
    request = RenewalRequest(1, (RenewalItem("mbx-a"),), None)
    quote = quote_renewal(request, seen.mailboxes, demo_price_list(), START)
    return QuoteRecord(f"quo_memory_{number}", OWNER, quote)


async def _recalled(store: AsyncpgQuoteStore) -> MailboxesSeen:
    await store.mailboxes_to_quote(OWNER, ["mbx-a"], afresh=True)
    seen = await store.mailboxes_to_quote(OWNER, ["mbx-a"])
    assert seen.remembered is not None  # from memory, not read
    return seen


async def test_a_quote_priced_before_its_mailbox_changed_is_not_stored(db: Container) -> None:
    await _seed(db)
    async with remembering_store(db) as store:
        seen = await _recalled(store)
        record = _priced(seen, 1)
        async with UnitOfWork(db.sessionmaker) as uow:  # another process renews it meanwhile
            renewed = dataclasses.replace(seen.mailboxes["mbx-a"], plan_code="STANDARD")
            await uow.mailboxes.save(renewed, START)
            await uow.commit()

        assert await store.add(record, None, seen) is False
        assert await store.get_visible(OWNER, record.id) is None
        fresh = await store.mailboxes_to_quote(OWNER, ["mbx-a"], afresh=True)
        assert fresh.mailboxes["mbx-a"].plan_code == "STANDARD"
        assert await store.add(_priced(fresh, 2), None, fresh) is True


async def test_a_change_rolled_back_leaves_the_remembered_mailbox_good(db: Container) -> None:
    await _seed(db)
    async with remembering_store(db) as store:
        seen = await _recalled(store)
        async with db.engine.connect() as connection:
            transaction = await connection.begin()
            await connection.execute(
                text("UPDATE mailboxes SET plan_code = 'STANDARD' WHERE id = 'mbx-a'")
            )
            await transaction.rollback()

        assert await store.add(_priced(seen, 1), None, seen) is True


async def test_a_quote_is_stored_for_who_can_see_every_mailbox_only(db: Container) -> None:
    await _seed(db)
    async with remembering_store(db) as store:
        seen = await _recalled(store)
        quote = _priced(seen, 1).quote

        stranger = QuoteRecord("quo_memory_stranger", Principal(Role.CUSTOMER, "acc-2"), quote)
        staff = QuoteRecord("quo_memory_staff", Principal(Role.STAFF, "staff-1"), quote)

        assert await store.add(stranger, None, seen) is False
        assert await store.add(staff, None, seen) is True
