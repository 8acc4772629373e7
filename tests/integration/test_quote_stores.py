"""The two quote stores (asyncpg on PostgreSQL, the SQLAlchemy session elsewhere) agree."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import fields
from datetime import date

import pytest
from pydantic import ValidationError

from app.container import Container, build_container
from app.db.pg_quote_store import VISIBLE_MAILBOXES, AsyncpgQuoteStore
from app.db.quote_repository import QuoteRecord
from app.db.quote_store import QuoteStore, SessionQuoteStore
from app.db.unit_of_work import UnitOfWork
from app.domain.access import Principal, Role
from app.domain.mailbox import Mailbox, MailboxStatus
from app.domain.quote import RenewalItem, RenewalRequest, quote_renewal
from app.sandbox.demo_catalog import demo_price_list
from app.settings import Settings
from tests.conftest import START


@asynccontextmanager
async def open_store(db: Container, kind: str) -> AsyncIterator[QuoteStore]:
    if kind == "session":
        async with UnitOfWork(db.sessionmaker) as uow:
            yield SessionQuoteStore(uow)
    else:
        if db.engine.dialect.name != "postgresql":
            pytest.skip("the asyncpg store needs PostgreSQL")
        async with db.engine.connect() as connection:
            raw = await connection.get_raw_connection()
            yield AsyncpgQuoteStore(raw.driver_connection)


def mailbox(mailbox_id: str, account: str, partner: str | None = None) -> Mailbox:
    return Mailbox(
        mailbox_id,
        f"{mailbox_id}@pec.example.it",
        "PRO",
        2,
        1,
        2500,
        3100,
        date(2027, 1, 31),
        MailboxStatus.ACTIVE,
        False,
        account,
        partner,
        3,
    )


async def _seed(db: Container) -> None:
    async with UnitOfWork(db.sessionmaker) as uow:
        await uow.mailboxes.save(mailbox("mbx-a", "acc-1", "ptn-1"), START)
        await uow.mailboxes.save(mailbox("mbx-b", "acc-2"), START)
        await uow.commit()


@pytest.mark.parametrize("kind", ["session", "asyncpg"])
async def test_store_reads_mailboxes_by_visibility(db: Container, kind: str) -> None:
    await _seed(db)
    ids = ["mbx-a", "mbx-b", "mbx-unknown"]

    async with open_store(db, kind) as store:
        customer = await store.mailboxes_to_quote(Principal(Role.CUSTOMER, "acc-1"), ids)
        partner = await store.mailboxes_to_quote(Principal(Role.PARTNER, "ptn-1"), ids)
        staff = await store.mailboxes_to_quote(Principal(Role.STAFF, "s"), ids)

    assert customer.mailboxes == {"mbx-a": mailbox("mbx-a", "acc-1", "ptn-1")}
    assert list(partner.mailboxes) == ["mbx-a"]
    assert sorted(staff.mailboxes) == ["mbx-a", "mbx-b"]


@pytest.mark.parametrize("kind", ["session", "asyncpg"])
async def test_store_keeps_a_quote_exactly_and_once_per_key(db: Container, kind: str) -> None:
    await _seed(db)
    owner = Principal(Role.CUSTOMER, "acc-1")
    async with open_store(db, kind) as store:
        seen = await store.mailboxes_to_quote(owner, ["mbx-a"])
        assert seen.pending == {}
        quote = quote_renewal(
            RenewalRequest(2, (RenewalItem("mbx-a"),), "USB_TOKEN"),
            seen.mailboxes,
            demo_price_list(),
            START,
        )
        first = QuoteRecord(f"quo_{kind}_1", owner, quote, "hash-1")
        second = QuoteRecord(f"quo_{kind}_2", owner, quote, "hash-1")

        assert await store.add(first, "key-1", seen) is True
        assert await store.add(second, "key-1", seen) is False  # same owner, same key
        assert await store.add(QuoteRecord(f"quo_{kind}_3", owner, quote), None, seen) is True

        assert await store.get_visible(owner, first.id) == first
        assert await store.get_visible(owner, second.id) is None
        assert await store.by_idempotency_key(owner, "key-1") == first
        assert await store.by_idempotency_key(Principal(Role.CUSTOMER, "acc-2"), "key-1") is None


@pytest.mark.parametrize("kind", ["session", "asyncpg"])
async def test_store_shows_a_quote_to_its_owner_and_staff_only(db: Container, kind: str) -> None:
    await _seed(db)
    owner = Principal(Role.CUSTOMER, "acc-1")
    async with open_store(db, kind) as store:
        seen = await store.mailboxes_to_quote(owner, ["mbx-a"])
        quote = quote_renewal(
            RenewalRequest(1, (RenewalItem("mbx-a"),), None),
            seen.mailboxes,
            demo_price_list(),
            START,
        )
        record = QuoteRecord(f"quo_{kind}_seen", owner, quote)
        assert await store.add(record, None, seen) is True

        assert await store.get_visible(owner, record.id) == record
        assert await store.get_visible(Principal(Role.STAFF, "staff-9"), record.id) == record
        # The same subject in another role is someone else; so is the mailbox's partner.
        assert await store.get_visible(Principal(Role.PARTNER, "acc-1"), record.id) is None
        assert await store.get_visible(Principal(Role.PARTNER, "ptn-1"), record.id) is None
        assert await store.get_visible(Principal(Role.CUSTOMER, "acc-2"), record.id) is None


def test_the_asyncpg_store_selects_a_column_for_every_mailbox_field() -> None:
    # A Mailbox field the store doesn't select would break quoting on PostgreSQL only.
    wanted = {field.name for field in fields(Mailbox)}

    for role, statement in VISIBLE_MAILBOXES.items():
        assert wanted <= set(statement.columns), role


@pytest.mark.parametrize(
    ("setting", "expected"), [("auto", AsyncpgQuoteStore), ("sqlalchemy", SessionQuoteStore)]
)
async def test_quote_store_setting_chooses_the_store_on_postgresql(
    db: Container, monkeypatch: pytest.MonkeyPatch, setting: str, expected: type
) -> None:
    if db.engine.dialect.name != "postgresql":
        pytest.skip("the choice exists on PostgreSQL only")
    monkeypatch.setenv("QUOTE_STORE", setting)
    settings = Settings(database_url=db.settings.database_url)  # read from the environment
    container = build_container(settings, engine=db.engine)

    async with container.quote_store() as store:
        assert type(store) is expected


def test_an_unknown_quote_store_is_refused_at_start(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QUOTE_STORE", "asyncpg-please")

    with pytest.raises(ValidationError, match="quote_store"):
        Settings()
