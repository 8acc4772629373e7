"""The order path's repositories agree on both units of work: the lean one's asyncpg
statements (app/db/pg_*_repository.py) read and write what the SQLAlchemy ones do."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

import httpx
import pytest

from app.container import Container
from app.db.lean_unit_of_work import LeanUnitOfWork
from app.db.unit_of_work import UnitOfWork
from app.domain.access import Principal, Role
from app.domain.idempotency_identity import IdempotencyClaim, IdempotencyIdentity
from app.domain.order import OrderStatus
from app.domain.order_aggregate import Order
from app.domain.outgoing_message import OutgoingMessage
from tests.api.helpers import put_mailbox
from tests.api.order_helpers import PERSON, new_key, order_body, quote_id_for
from tests.conftest import CUSTOMER, STAFF, START

KINDS = ("sqlalchemy", "lean")


@asynccontextmanager
async def unit_of_work(db: Container, kind: str) -> AsyncIterator[UnitOfWork]:
    if db.engine.dialect.name != "postgresql":
        pytest.skip("the lean unit of work needs PostgreSQL")
    uow = LeanUnitOfWork(db.engine) if kind == "lean" else UnitOfWork(db.sessionmaker)
    async with uow:
        yield uow


async def _placed_order(client: httpx.AsyncClient) -> dict[str, Any]:
    """An unpaid order for mbx-1 and a quote for mbx-2 (same account, holder omitted)."""
    await put_mailbox(client, "mbx-1", "STANDARD")
    await put_mailbox(client, "mbx-2", "PRO")
    quote_id = await quote_id_for(client, CUSTOMER, [{"mailbox_id": "mbx-1"}])
    response = await client.post("/v1/orders", json=order_body(quote_id), headers=new_key(CUSTOMER))
    assert response.status_code == 201, response.text
    order: dict[str, Any] = response.json()
    return order


async def _reads(db: Container, kind: str, order: dict[str, Any], quote_id: str) -> list[Any]:
    customer = Principal(Role.CUSTOMER, "acc-1")
    async with unit_of_work(db, kind) as uow:
        return [
            await uow.orders.load(order["id"]),
            await uow.orders.load(order["id"], lock=True),
            await uow.orders.by_number(order["number"], lock=True),
            await uow.orders.by_number(order["id"]),
            await uow.orders.load("ord_unknown"),
            await uow.orders.id_of_quote(order["quote_id"]),
            await uow.orders.pending_order_of("mbx-1"),
            await uow.orders.pending_order_of("mbx-2"),
            await uow.orders.credit_of("ptn-1"),
            await uow.quotes.get_visible(customer, quote_id),
            await uow.quotes.to_order(customer, quote_id, language_of="acc-1", with_holders=True),
            await uow.quotes.to_order(customer, quote_id, language_of=None, with_holders=False),
            await uow.quotes.to_order(
                Principal(Role.CUSTOMER, "acc-2"), quote_id, language_of="acc-2", with_holders=True
            ),
            await uow.quotes.to_order(
                Principal(Role.STAFF, "s"), quote_id, language_of="acc-p", with_holders=True
            ),
            await uow.accounts.language_of("acc-p"),
            await uow.holders.on_file(["mbx-1", "mbx-2", "mbx-unknown"]),
        ]


async def test_reads_agree(db: Container, client: httpx.AsyncClient) -> None:
    if db.engine.dialect.name != "postgresql":
        pytest.skip("the lean unit of work needs PostgreSQL")
    order = await _placed_order(client)
    quote_id = await quote_id_for(client, CUSTOMER, [{"mailbox_id": "mbx-2"}])
    account = {
        "name": "Mario Rossi",
        "email": "mario@example.it",
        "language": "en",
        "holder": PERSON,
        "billing": {"e_invoicing": {"sdi_code": "ABC1234"}},
    }
    response = await client.put("/v1/admin/accounts/acc-1", json=account, headers=STAFF)
    assert response.status_code == 200, response.text

    by_orm, by_asyncpg = [await _reads(db, kind, order, quote_id) for kind in KINDS]

    assert by_asyncpg == by_orm
    assert by_orm[0].id == order["id"]
    assert by_orm[6].order_id == order["id"]
    assert by_orm[10].language == "en"
    assert by_orm[10].holders_on_file["mbx-2"].record.holder.name == PERSON["name"]


async def _claims(db: Container, kind: str, quote_id: str, used_key: str) -> list[Any]:
    """to_order_claiming's answers: a fresh key, the same key again, a key an order used,
    an unknown quote; the earlier records as (fingerprint, status, body)."""
    customer = Principal(Role.CUSTOMER, "acc-1")

    def identity(key: str) -> IdempotencyIdentity:
        return IdempotencyIdentity("customer", "acc-1", "create_order", key)

    seen = []
    async with unit_of_work(db, kind) as uow:
        for key, quote in (("k-new", quote_id), ("k-new", quote_id), (used_key, quote_id),
                           ("k-other", "quo_unknown")):  # fmt: skip
            claim = IdempotencyClaim(identity(key), f"fp-{key}", START)
            earlier, found = await uow.quotes.to_order_claiming(
                claim, customer, quote, language_of="acc-1", with_holders=True
            )
            record = None if earlier is None else (earlier.fingerprint, earlier.status_code)
            seen.append((record, earlier is not None and earlier.body is not None, found))
    return seen


async def test_claiming_reads_agree(db: Container, client: httpx.AsyncClient) -> None:
    if db.engine.dialect.name != "postgresql":
        pytest.skip("the lean unit of work needs PostgreSQL")
    await put_mailbox(client, "mbx-1", "STANDARD")
    await put_mailbox(client, "mbx-2", "PRO")
    quote_id = await quote_id_for(client, CUSTOMER, [{"mailbox_id": "mbx-1"}])
    headers = {**CUSTOMER, "Idempotency-Key": "k-used"}
    placed = await client.post("/v1/orders", json=order_body(quote_id), headers=headers)
    assert placed.status_code == 201, placed.text
    other_quote = await quote_id_for(client, CUSTOMER, [{"mailbox_id": "mbx-2"}])

    by_orm, by_asyncpg = [await _claims(db, kind, other_quote, "k-used") for kind in KINDS]

    assert by_asyncpg == by_orm
    fresh, again, used, unknown = by_orm
    assert fresh[0] is None  # claimed...
    assert fresh[2] is not None  # ...and the quote read
    assert again[0] == ("fp-k-new", None)  # held by the claim just made...
    assert again[2] is None  # ...so no quote
    assert used[0] is not None
    assert used[0][1] == 201  # the order's answer...
    assert used[1]  # ...kept whole
    assert unknown == (None, False, None)


def _another(order: Order, **changes: Any) -> Order:
    return dataclasses.replace(order, id=f"{order.id}-x", seq=0, **changes)


@pytest.mark.parametrize("kind", KINDS)
async def test_an_order_and_its_holds_are_written_at_once_or_refused(
    db: Container, client: httpx.AsyncClient, kind: str
) -> None:
    order = await _placed_order(client)
    other_quote = await quote_id_for(client, CUSTOMER, [{"mailbox_id": "mbx-2"}])
    async with unit_of_work(db, kind) as uow:
        placed = await uow.orders.load(order["id"])
        assert placed is not None
        # The same quote again: a unique key refuses it, nothing is held.
        assert await uow.orders.add_holding_mailboxes(_another(placed), "k-1", "h") == (None, None)
        # Another quote for a mailbox that has an unpaid order: stored, but that mailbox
        # is named (the caller rolls back).
        seq, taken = await uow.orders.add_holding_mailboxes(
            _another(placed, quote_id=other_quote), "k-2", "h"
        )
        assert seq is not None
        assert taken == "mbx-1"
    async with unit_of_work(db, kind) as uow:  # the first one rolled back
        free = _another(placed, quote_id=other_quote, items=())
        seq, taken = await uow.orders.add_holding_mailboxes(free, "k-3", "h")
        assert seq is not None
        assert taken is None
        stored = await uow.orders.load(free.id, lock=True)
        assert stored == dataclasses.replace(free, seq=seq)


@pytest.mark.parametrize("kind", KINDS)
async def test_a_saved_order_reads_back_as_saved(
    db: Container, client: httpx.AsyncClient, kind: str
) -> None:
    order = await _placed_order(client)
    async with unit_of_work(db, kind) as uow:
        loaded = await uow.orders.load(order["id"], lock=True)
        assert loaded is not None
        changed = dataclasses.replace(
            loaded, status=OrderStatus.CANCELLED, closed_at=START, refunded_cents=7
        )
        await uow.orders.save(changed)
        await uow.orders.release_mailboxes(order["id"])
        assert await uow.orders.load(order["id"]) == changed
        assert await uow.orders.pending_order_of("mbx-1") is None


@pytest.mark.parametrize("kind", KINDS)
async def test_idempotency_claims_replay_the_recorded_answer(db: Container, kind: str) -> None:
    identity = IdempotencyIdentity("customer", "acc-1", "create_order", f"key-{kind}")
    now = START
    async with unit_of_work(db, kind) as uow:
        assert await uow.idempotency.claim(identity, "fp", now) is None
        await uow.idempotency.record_answer(identity, 201, {"id": "ord_1", "n": [1, 2]})
        await uow.commit()
    async with unit_of_work(db, kind) as uow:
        earlier = await uow.idempotency.claim(identity, "other", now)
    assert earlier is not None
    assert (earlier.fingerprint, earlier.status_code, earlier.body) == (
        "fp",
        201,
        {"id": "ord_1", "n": [1, 2]},
    )


@pytest.mark.parametrize("kind", KINDS)
async def test_an_answer_is_recorded_with_its_messages_queued(db: Container, kind: str) -> None:
    identity = IdempotencyIdentity("customer", "acc-1", "create_order", f"key-q-{kind}")
    email = OutgoingMessage("email", f"confirmation-{kind}", {"to": "a@b.it", "text": "è"})
    async with unit_of_work(db, kind) as uow:
        assert await uow.idempotency.claim(identity, "fp", START) is None
        answer = {"id": "ord_1"}
        await uow.idempotency.record_answer_queueing(identity, 201, answer, [email], START)
        # Queued once: the same key again (another order's answer) adds nothing.
        await uow.outbox.add_many([OutgoingMessage("email", email.dedupe_key, {"n": 2})], START)
        await uow.commit()
    async with unit_of_work(db, kind) as uow:
        earlier = await uow.idempotency.claim(identity, "fp", START)
        due = await uow.outbox.claim_due(START, 100, timedelta(minutes=1))
    assert earlier is not None
    assert (earlier.status_code, earlier.body) == (201, {"id": "ord_1"})
    queued = [(m.kind, m.payload, m.attempts) for m in due if m.dedupe_key == email.dedupe_key]
    assert queued == [("email", email.payload, 1)]


@pytest.mark.parametrize("kind", KINDS)
async def test_partner_credit_is_debited_only_when_it_covers_the_order(
    db: Container, kind: str
) -> None:
    async with unit_of_work(db, kind) as uow:
        assert await uow.orders.debit_credit("ptn-1", 10_001) is None
        assert await uow.orders.debit_credit("ptn-1", 4_000) == 6_000
        movement = {
            "partner_id": "ptn-1",
            "kind": "order",
            "amount_cents": -4_000,
            "balance_after_cents": 6_000,
            "order_id": None,
            "created_at": START,
        }
        assert await uow.orders.record_credit_movement(movement) is True
        assert await uow.orders.credit_of("ptn-1") == 6_000
        await uow.commit()
    async with unit_of_work(db, kind) as uow:
        assert await uow.orders.credit_of("ptn-1") == 6_000
        top_up = {**movement, "kind": "top_up", "amount_cents": 1, "idempotency_key": "t-1"}
        assert await uow.orders.record_credit_movement(top_up) is True
        assert await uow.orders.record_credit_movement(top_up) is False  # the same key


async def _placed_and_locked(db: Container, kind: str, placed: Order, quote_id: str) -> list[Any]:
    """add_holding_and_locking refused (the quote used), told of a held mailbox, and
    done (the mailbox locked and read), each in a transaction rolled back."""
    mbx_2 = [dataclasses.replace(item, mailbox_id="mbx-2") for item in placed.items]
    seen: list[Any] = []
    async with unit_of_work(db, kind) as uow:
        seen.append(await uow.orders.add_holding_and_locking(_another(placed), "k-1", "h"))
    async with unit_of_work(db, kind) as uow:
        _, taken, locked = await uow.orders.add_holding_and_locking(
            _another(placed, quote_id=quote_id), "k-2", "h"
        )
        seen.append((taken, locked))
    async with unit_of_work(db, kind) as uow:
        done = _another(placed, quote_id=quote_id, items=tuple(mbx_2))
        seq, taken, locked = await uow.orders.add_holding_and_locking(done, "k-3", "h")
        assert seq is not None
        seen.append((taken, locked, await uow.mailboxes.lock_for_renewal(["mbx-2"])))
        seen.append(await uow.orders.pending_order_of("mbx-2"))
    return seen


async def test_an_order_holds_and_locks_its_mailboxes_in_one_call(
    db: Container, client: httpx.AsyncClient
) -> None:
    order = await _placed_order(client)
    other_quote = await quote_id_for(client, CUSTOMER, [{"mailbox_id": "mbx-2"}])
    async with unit_of_work(db, "sqlalchemy") as uow:
        placed = await uow.orders.load(order["id"])
    assert placed is not None

    by_orm, by_asyncpg = [await _placed_and_locked(db, k, placed, other_quote) for k in KINDS]

    assert by_asyncpg == by_orm
    refused, taken, done, held = by_orm
    assert refused == (None, None, {})
    assert taken == ("mbx-1", {})
    assert done[0] is None
    assert done[1] == done[2]
    assert set(done[1]) == {"mbx-2"}
    assert held is not None
    assert held.order_id == f"{order['id']}-x"
