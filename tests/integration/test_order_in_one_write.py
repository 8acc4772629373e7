"""A customer's order in one read and one write (app/db/pg_order_in_one_write.py): when
something moves between the two, the write leaves nothing behind and the transactional
path answers, as it would have alone.

Each test places an order over HTTP while a step runs, committed, between the read and
the write: the order's mailbox renewed or merely touched, held by another order, its
quote ordered, its Idempotency-Key used. Each runs twice: with the quote remembered by the
process, so that the order is not read for (app/db/order_memory.py: the step then runs
between the recall and the write), and with ORDER_QUOTE_MEMORY=0, read for.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager

import httpx
import pytest
from sqlalchemy import text

from app.container import Container
from app.db.pg_order_in_one_write import OrderInOneWrite, open_order_in_one_write
from tests.api.helpers import put_mailbox
from tests.api.order_helpers import order_body, quote_id_for
from tests.conftest import CUSTOMER, MovableClock
from tests.integration.interleaving import Between, app_interleaving


@pytest.fixture(params=["remembered", "read"])
async def placing(
    request: pytest.FixtureRequest, db: Container, clock: MovableClock
) -> AsyncIterator[tuple[httpx.AsyncClient, Between, Container]]:
    if request.param == "read":
        settings = db.settings.model_copy(update={"order_quote_memory": 0})
        db = dataclasses.replace(db, settings=settings)
    async with app_interleaving(db, clock, "order_in_one_write", _open) as app:
        yield app


def _open(container: Container) -> AbstractAsyncContextManager[OrderInOneWrite]:
    return open_order_in_one_write(container.engine, container.memory, container.group_commit)


async def _sql(container: Container, statement: str) -> None:
    async with container.engine.begin() as connection:
        await connection.execute(text(statement))


async def _count(container: Container, query: str) -> int:
    async with container.engine.connect() as connection:
        return int((await connection.execute(text(query))).scalar_one())


async def _nothing_left_of(container: Container, key: str) -> None:
    """No trace of an attempt under `key`: no order, no claim."""
    assert (
        await _count(container, f"select count(*) from orders where idempotency_key = '{key}'") == 0
    )
    assert (
        await _count(container, f"select count(*) from idempotency_records where key = '{key}'")
        == 0
    )


async def test_an_order_placed_in_one_write_reads_back_as_answered(
    placing: tuple[httpx.AsyncClient, Between, Container],
) -> None:
    client, between, db = placing
    await put_mailbox(client, "mbx-1", "STANDARD")
    quote_id = await quote_id_for(client, CUSTOMER, [{"mailbox_id": "mbx-1"}])
    headers = {**CUSTOMER, "Idempotency-Key": "k-1"}
    placed = await client.post("/v1/orders", json=order_body(quote_id), headers=headers)
    assert placed.status_code == 201, placed.text
    assert between.written is True
    shown = await client.get(f"/v1/orders/{placed.json()['id']}", headers=CUSTOMER)
    assert shown.json() == placed.json()
    again = await client.post("/v1/orders", json=order_body(quote_id), headers=headers)
    assert again.json() == placed.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert await _count(db, "select count(*) from pending_renewals where mailbox_id = 'mbx-1'") == 1
    confirmation = f"order-confirmation:{placed.json()['id']}"
    assert await _count(db, f"select count(*) from outbox where dedupe_key = '{confirmation}'") == 1


async def test_a_mailbox_renewed_meanwhile_makes_it_quote_expired(
    placing: tuple[httpx.AsyncClient, Between, Container],
) -> None:
    client, between, db = placing
    await put_mailbox(client, "mbx-1", "STANDARD")
    quote_id = await quote_id_for(client, CUSTOMER, [{"mailbox_id": "mbx-1"}])

    async def renewed() -> None:
        await _sql(db, "update mailboxes set expires_on = expires_on + 365 where id = 'mbx-1'")

    between.step = renewed
    headers = {**CUSTOMER, "Idempotency-Key": "k-renewed"}
    refused = await client.post("/v1/orders", json=order_body(quote_id), headers=headers)
    assert between.written is False
    assert refused.status_code == 409, refused.text
    assert refused.json()["code"] == "quote_expired"
    await _nothing_left_of(db, "k-renewed")
    assert await _count(db, "select count(*) from pending_renewals") == 0
    assert await _count(db, "select count(*) from outbox where kind = 'email'") == 0


async def test_a_mailbox_touched_but_unchanged_still_gets_its_order(
    placing: tuple[httpx.AsyncClient, Between, Container],
) -> None:
    client, between, db = placing
    await put_mailbox(client, "mbx-1", "STANDARD")
    quote_id = await quote_id_for(client, CUSTOMER, [{"mailbox_id": "mbx-1"}])

    async def touched() -> None:  # a new row version, the same facts
        await _sql(db, "update mailboxes set expires_on = expires_on where id = 'mbx-1'")

    between.step = touched
    headers = {**CUSTOMER, "Idempotency-Key": "k-touched"}
    placed = await client.post("/v1/orders", json=order_body(quote_id), headers=headers)
    assert between.written is False  # the write gave way...
    assert placed.status_code == 201, placed.text  # ...and the transactional path placed it
    assert await _count(db, "select count(*) from orders") == 1
    assert await _count(db, "select count(*) from outbox where kind = 'email'") == 1


async def test_a_mailbox_held_meanwhile_names_the_order_holding_it(
    placing: tuple[httpx.AsyncClient, Between, Container],
) -> None:
    client, between, db = placing
    await put_mailbox(client, "mbx-1", "STANDARD")
    first_quote = await quote_id_for(client, CUSTOMER, [{"mailbox_id": "mbx-1"}])
    quote_id = await quote_id_for(client, CUSTOMER, [{"mailbox_id": "mbx-1"}])
    first: list[httpx.Response] = []

    async def another_order_first() -> None:
        headers = {**CUSTOMER, "Idempotency-Key": "k-first"}
        first.append(await client.post("/v1/orders", json=order_body(first_quote), headers=headers))

    between.step = another_order_first
    headers = {**CUSTOMER, "Idempotency-Key": "k-second"}
    refused = await client.post("/v1/orders", json=order_body(quote_id), headers=headers)
    assert first[0].status_code == 201, first[0].text
    assert between.written is False
    assert refused.status_code == 409, refused.text
    assert refused.json()["code"] == "pending_order_exists"
    assert refused.json()["order_id"] == first[0].json()["id"]
    await _nothing_left_of(db, "k-second")


async def test_a_key_used_meanwhile_gets_that_first_answer(
    placing: tuple[httpx.AsyncClient, Between, Container],
) -> None:
    client, between, db = placing
    await put_mailbox(client, "mbx-1", "STANDARD")
    quote_id = await quote_id_for(client, CUSTOMER, [{"mailbox_id": "mbx-1"}])
    headers = {**CUSTOMER, "Idempotency-Key": "k-same"}
    first: list[httpx.Response] = []

    async def a_retry_overtakes_it() -> None:
        first.append(await client.post("/v1/orders", json=order_body(quote_id), headers=headers))

    between.step = a_retry_overtakes_it
    replayed = await client.post("/v1/orders", json=order_body(quote_id), headers=headers)
    assert first[0].status_code == 201, first[0].text
    assert between.written is False
    assert replayed.status_code == 201, replayed.text
    assert replayed.json() == first[0].json()
    assert replayed.headers["Idempotent-Replayed"] == "true"
    assert await _count(db, "select count(*) from orders") == 1
    assert await _count(db, "select count(*) from outbox where kind = 'email'") == 1


async def test_its_quote_ordered_meanwhile_names_that_order(
    placing: tuple[httpx.AsyncClient, Between, Container],
) -> None:
    client, between, db = placing
    await put_mailbox(client, "mbx-1", "STANDARD")
    quote_id = await quote_id_for(client, CUSTOMER, [{"mailbox_id": "mbx-1"}])
    first: list[httpx.Response] = []

    async def ordered_under_another_key() -> None:
        headers = {**CUSTOMER, "Idempotency-Key": "k-other"}
        first.append(await client.post("/v1/orders", json=order_body(quote_id), headers=headers))

    between.step = ordered_under_another_key
    headers = {**CUSTOMER, "Idempotency-Key": "k-late"}
    refused = await client.post("/v1/orders", json=order_body(quote_id), headers=headers)
    assert first[0].status_code == 201, first[0].text
    assert between.written is False
    assert refused.status_code == 409, refused.text
    assert refused.json()["code"] == "quote_already_ordered"
    assert refused.json()["order_id"] == first[0].json()["id"]
    await _nothing_left_of(db, "k-late")
