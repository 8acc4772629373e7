"""Creating a quote from remembered mailboxes, case by case, on an in-memory quote store.

On PostgreSQL the quote store may answer with the mailboxes as this process last read
them (app/db/mailbox_memory.py); the use case then stores the quote only if the store
finds them unchanged, and settles any doubt with a fresh read. The store below keeps
two views of each mailbox, as the database holds it now and as it was remembered, and
refuses a quote priced from a remembered view that is no longer the database's.
PostgreSQL's own checks (row versions, visibility, races) are tested in
tests/api/test_quote_mailbox_memory_api.py and tests/integration/test_quote_mailbox_memory.py.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import timedelta

import pytest

from app.db.mailbox_memory import MailboxesSeen
from app.db.quote_store import QuoteStore
from app.domain.access import Principal, Role
from app.domain.errors import MailboxNotFound
from app.domain.mailbox import Mailbox
from app.domain.quote import RenewalItem, RenewalRequest
from app.domain.quote_record import QuoteRecord
from app.sandbox.demo_catalog import demo_price_list
from app.services.catalog_cache import CatalogCache
from app.services.idempotency import IdempotentRequest
from app.services.quoting import MailboxesFrom, QuoteOutcome, create_quote
from tests.conftest import START
from tests.fakes.unit_of_work import FakeDatabase
from tests.integration.test_quote_stores import mailbox

OWNER = Principal(Role.CUSTOMER, "acc-1")
REQUEST = RenewalRequest(1, (RenewalItem("mbx-a"),), None)


class TwoViewQuoteStore:
    """Mailboxes as stored now, and as remembered (each with a version)."""

    def __init__(self) -> None:
        self.now: dict[str, tuple[Mailbox, int]] = {}
        self.remembered: dict[str, tuple[Mailbox, int]] = {}
        self.quotes: dict[str, QuoteRecord] = {}

    async def mailboxes_to_quote(
        self, principal: Principal, ids: Sequence[str], *, afresh: bool = False
    ) -> MailboxesSeen:
        if not afresh and all(i in self.remembered for i in ids):
            views = [self.remembered[i] for i in ids]
            versions = tuple(f"{m.id} {version}" for m, version in views)
            return MailboxesSeen({m.id: m for m, _ in views}, {}, versions)
        read = {i: self.now[i] for i in ids if i in self.now and _sees(principal, self.now[i][0])}
        self.remembered |= read
        return MailboxesSeen({i: m for i, (m, _) in read.items()}, {})

    async def add(
        self, record: QuoteRecord, idempotency_key: str | None, seen: MailboxesSeen
    ) -> bool:
        assert idempotency_key is None  # these cases send none
        if seen.remembered is not None:
            current = {
                f"{m.id} {version}"
                for m, version in (self.now.get(i, (None, None)) for i in seen.mailboxes)
                if m is not None and _sees(record.owner, m)
            }
            if current != set(seen.remembered):
                return False
        self.quotes[record.id] = record
        return True

    async def by_idempotency_key(self, owner: Principal, key: str) -> QuoteRecord | None:  # noqa: ARG002
        raise AssertionError("these cases send no key")

    async def get_visible(self, principal: Principal, quote_id: str) -> QuoteRecord | None:
        record = self.quotes.get(quote_id)
        return record if record is not None and record.visible_to(principal) else None

    def store(self, changed: Mailbox) -> None:
        """A write to the mailbox by anyone: a new version."""
        version = self.now[changed.id][1] + 1 if changed.id in self.now else 1
        self.now[changed.id] = (changed, version)


def _sees(principal: Principal, mailbox: Mailbox) -> bool:
    return principal.role is Role.STAFF or mailbox.account_id == principal.subject


@pytest.fixture
async def catalog() -> CatalogCache:
    database = FakeDatabase()
    async with database.unit_of_work() as uow:
        await uow.catalog.add(demo_price_list())
        await uow.commit()
    return CatalogCache(database.uow_factory, lambda: START, timedelta(hours=1))


async def quoted(store: TwoViewQuoteStore, catalog: CatalogCache) -> QuoteOutcome:
    @asynccontextmanager
    async def open_store() -> AsyncIterator[QuoteStore]:
        yield store

    keyed = IdempotentRequest(OWNER, "create_quote", None, None)
    return await create_quote(
        open_store, catalog, OWNER, REQUEST, START, timedelta(hours=24), keyed
    )


async def test_an_unchanged_remembered_mailbox_prices_the_quote_from_memory(
    catalog: CatalogCache,
) -> None:
    store = TwoViewQuoteStore()
    store.store(mailbox("mbx-a", "acc-1"))

    first = await quoted(store, catalog)
    again = await quoted(store, catalog)

    assert (first.mailboxes_from, again.mailboxes_from) == (
        MailboxesFrom.READ,
        MailboxesFrom.MEMORY,
    )
    assert again.record.quote.items == first.record.quote.items
    assert set(store.quotes) == {first.record.id, again.record.id}


async def test_a_mailbox_changed_since_it_was_remembered_is_quoted_as_it_is_now(
    catalog: CatalogCache,
) -> None:
    store = TwoViewQuoteStore()
    store.store(mailbox("mbx-a", "acc-1"))
    await quoted(store, catalog)
    store.store(dataclasses.replace(mailbox("mbx-a", "acc-1"), plan_code="STANDARD"))

    outcome = await quoted(store, catalog)

    assert outcome.mailboxes_from is MailboxesFrom.READ_AGAIN
    assert outcome.record.quote.items[0].current_plan == "STANDARD"
    assert len(store.quotes) == 2  # the one priced from memory was never stored


async def test_a_refusal_of_what_was_remembered_is_checked_on_a_fresh_read(
    catalog: CatalogCache,
) -> None:
    # Remembered on a plan the price list doesn't price (the pricing refuses it); the
    # mailbox moved to a priced plan since: the refusal was the memory's, not the truth.
    store = TwoViewQuoteStore()
    store.store(mailbox("mbx-a", "acc-1"))
    store.remembered["mbx-a"] = (
        dataclasses.replace(mailbox("mbx-a", "acc-1"), plan_code="GONE"),
        0,
    )

    outcome = await quoted(store, catalog)

    assert outcome.mailboxes_from is MailboxesFrom.READ_AGAIN
    assert outcome.record.quote.items[0].current_plan == "PRO"


async def test_a_remembered_mailbox_now_out_of_reach_is_not_found(catalog: CatalogCache) -> None:
    store = TwoViewQuoteStore()
    store.store(mailbox("mbx-a", "acc-1"))
    await quoted(store, catalog)
    store.store(mailbox("mbx-a", "acc-2"))  # moved to another account

    with pytest.raises(MailboxNotFound):
        await quoted(store, catalog)
    assert len(store.quotes) == 1
