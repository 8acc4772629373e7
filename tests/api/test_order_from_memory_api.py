"""An order placed from what the api remembers answers as an order read for would.

On PostgreSQL the api remembers each customer's quote it stored, with the account's
language, and the mailboxes it priced, and holds an order number reserved by its last
write: the order that follows is then ONE statement, which checks that nothing it relied
on moved (app/db/order_memory.py). These tests move things behind the memory's back and
order. On SQLite (nothing remembered) they hold just the same; the interleaved cases
(a change between the recall and the write) are in tests/integration/test_order_in_one_write.py.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from app.container import Container
from tests.api.helpers import assert_problem, metric_sample, put_mailbox
from tests.api.order_helpers import new_key, order_body, quote_id_for
from tests.api.test_quote_mailbox_memory_api import statements_sent
from tests.conftest import CUSTOMER, OTHER_CUSTOMER, MovableClock


def remembers(db: Container) -> bool:
    return (
        db.order_in_one_write is not None
        and db.settings.order_quote_memory > 0
        and db.settings.quote_mailbox_memory > 0
    )


async def _order(
    client: httpx.AsyncClient, quote_id: str, headers: dict[str, str] | None = None
) -> httpx.Response:
    return await client.post(
        "/v1/orders", json=order_body(quote_id), headers=headers or new_key(CUSTOMER)
    )


async def _placed(client: httpx.AsyncClient, mailbox_id: str) -> dict[str, Any]:
    await put_mailbox(client, mailbox_id, "STANDARD")
    placed = await _order(
        client, await quote_id_for(client, CUSTOMER, [{"mailbox_id": mailbox_id}])
    )
    assert placed.status_code == 201, placed.text
    answer: dict[str, Any] = placed.json()
    return answer


async def _from_memory(client: httpx.AsyncClient, outcome: str) -> float:
    return await metric_sample(client, "orders_from_memory_total", outcome=outcome)


async def _stored_language(db: Container, order_id: str) -> str:
    async with db.engine.connect() as connection:
        query = text("select language from orders where id = :id")
        return str((await connection.execute(query, {"id": order_id})).scalar_one())


async def test_an_order_forgets_its_quote_and_mailboxes_which_can_serve_nothing_more(
    client: httpx.AsyncClient, db: Container
) -> None:
    if not remembers(db):
        pytest.skip("quotes are remembered on PostgreSQL's lean path only (ORDER_QUOTE_MEMORY > 0)")
    await put_mailbox(client, "mbx-m", "STANDARD")
    await put_mailbox(client, "mbx-n", "STANDARD")
    ordered = await quote_id_for(client, CUSTOMER, [{"mailbox_id": "mbx-m"}])
    other = await quote_id_for(client, CUSTOMER, [{"mailbox_id": "mbx-n"}])
    memory = db.memory
    assert memory.orders.recall_quote(ordered) is not None
    assert memory.mailboxes.recall(["mbx-m"]) is not None

    placed = await _order(client, ordered)

    assert placed.status_code == 201, placed.text
    # A quote orders once, and the mailbox's version now counts its unpaid order: kept,
    # they would only cost later requests a write bound to fail, and the collector time.
    assert memory.orders.recall_quote(ordered) is None
    assert memory.mailboxes.recall(["mbx-m"]) is None
    assert memory.orders.recall_quote(other) is not None
    assert memory.mailboxes.recall(["mbx-n"]) is not None
    again = await _order(client, ordered)
    assert_problem(again, 409, "quote_already_ordered")


async def test_an_order_after_its_quote_is_one_statement(
    client: httpx.AsyncClient, db: Container
) -> None:
    if not remembers(db):
        pytest.skip("quotes are remembered on PostgreSQL's lean path only (ORDER_QUOTE_MEMORY > 0)")
    first = await _placed(client, "mbx-a")  # read for: its write reserves the next number
    await put_mailbox(client, "mbx-m", "STANDARD")
    quote_id = await quote_id_for(client, CUSTOMER, [{"mailbox_id": "mbx-m"}])
    written = await _from_memory(client, "written")

    async with statements_sent(db.engine) as sent:
        placed = await _order(client, quote_id)

    assert placed.status_code == 201, placed.text
    assert len(sent) == 1, sent
    assert await _from_memory(client, "written") == written + 1
    assert sent[0].lstrip().upper().startswith("WITH"), sent
    order = placed.json()
    assert order["number"] != first["number"]
    shown = await client.get(f"/v1/orders/{order['id']}", headers=CUSTOMER)
    assert shown.json() == order


async def test_orders_placed_at_once_each_get_their_own_number(
    client: httpx.AsyncClient,
) -> None:
    await _placed(client, "mbx-0")  # reserves a number: the rest race for it and more
    ids = [f"mbx-{i}" for i in range(1, 9)]
    for mailbox_id in ids:
        await put_mailbox(client, mailbox_id, "STANDARD")
    quotes = [await quote_id_for(client, CUSTOMER, [{"mailbox_id": m}]) for m in ids]

    placed = await asyncio.gather(*(_order(client, quote_id) for quote_id in quotes))

    assert [response.status_code for response in placed] == [201] * len(ids)
    numbers = [response.json()["number"] for response in placed]
    assert len(set(numbers)) == len(ids)
    for response in placed:
        shown = await client.get(f"/v1/orders/{response.json()['id']}", headers=CUSTOMER)
        assert shown.json()["number"] == response.json()["number"]


async def test_a_language_changed_after_the_quote_is_the_order_s_language(
    client: httpx.AsyncClient, db: Container
) -> None:
    await _placed(client, "mbx-a")
    await put_mailbox(client, "mbx-m", "STANDARD")
    quote_id = await quote_id_for(client, CUSTOMER, [{"mailbox_id": "mbx-m"}])
    async with db.engine.begin() as connection:  # the customer's preference, set elsewhere
        await connection.execute(text("update accounts set language = 'en' where id = 'acc-1'"))
    read_again = await _from_memory(client, "read_again")

    placed = await _order(client, quote_id, {**new_key(CUSTOMER), "Accept-Language": "it"})

    assert placed.status_code == 201, placed.text
    assert await _stored_language(db, placed.json()["id"]) == "en"
    if remembers(db):  # the memory's write gave way to the new language
        assert await _from_memory(client, "read_again") == read_again + 1


async def test_another_customer_s_remembered_quote_is_not_found(
    client: httpx.AsyncClient,
) -> None:
    await _placed(client, "mbx-a")
    await put_mailbox(client, "mbx-m", "STANDARD")
    quote_id = await quote_id_for(client, CUSTOMER, [{"mailbox_id": "mbx-m"}])

    stranger = await _order(client, quote_id, new_key(OTHER_CUSTOMER))

    assert_problem(stranger, 404, "quote_not_found")


async def test_an_expired_quote_still_replays_the_order_it_made(
    client: httpx.AsyncClient, db: Container, clock: MovableClock
) -> None:
    await _placed(client, "mbx-a")
    await put_mailbox(client, "mbx-m", "STANDARD")
    quote_id = await quote_id_for(client, CUSTOMER, [{"mailbox_id": "mbx-m"}])
    headers = new_key(CUSTOMER)
    placed = await _order(client, quote_id, headers)
    assert placed.status_code == 201, placed.text
    clock.now += timedelta(hours=db.settings.quote_validity_hours + 1)

    again = await _order(client, quote_id, headers)  # the quote alone would be refused

    assert again.status_code == 201, again.text
    assert again.json() == placed.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    refused = await _order(client, quote_id)  # a new key: the quote is used, and expired
    assert refused.status_code == 409, refused.text


async def test_a_quote_ordered_once_is_not_ordered_twice(client: httpx.AsyncClient) -> None:
    await _placed(client, "mbx-a")
    await put_mailbox(client, "mbx-m", "STANDARD")
    quote_id = await quote_id_for(client, CUSTOMER, [{"mailbox_id": "mbx-m"}])
    placed = await _order(client, quote_id)
    assert placed.status_code == 201, placed.text

    second = await _order(client, quote_id)

    problem = assert_problem(second, 409, "quote_already_ordered")
    assert problem["order_id"] == placed.json()["id"]
