"""Idempotency-Key on the POSTs that move money: a retry gets the FIRST answer back.

Not the resource as it is now, and judged on the validated request, not on its text.
"""

from __future__ import annotations

import asyncio

import httpx
import pytest
from sqlalchemy import text

from app.container import Container
from tests.api.helpers import assert_problem, field_errors, put_mailbox
from tests.api.order_helpers import PERSON, order_body, quote_id_for
from tests.conftest import CUSTOMER, PARTNER, STAFF

pytestmark = pytest.mark.both_units_of_work  # the lean unit of work and SQLAlchemy's

CREDIT_URL = "/v1/admin/partners/ptn-1/credit"


def keyed(headers: dict[str, str], key: str) -> dict[str, str]:
    return {**headers, "Idempotency-Key": key}


async def _count(db: Container, table: str) -> int:
    async with db.engine.connect() as connection:
        count: int = (await connection.execute(text(f"SELECT count(*) FROM {table}"))).scalar_one()
    return count


async def _quote(client: httpx.AsyncClient, mailbox_id: str = "mbx-1") -> str:
    await put_mailbox(client, mailbox_id)
    return await quote_id_for(client, CUSTOMER, [{"mailbox_id": mailbox_id}])


async def test_a_replayed_order_is_the_first_answer_not_the_order_now(
    client: httpx.AsyncClient,
) -> None:
    body = order_body(await _quote(client))
    first = await client.post("/v1/orders", json=body, headers=keyed(CUSTOMER, "o-1"))
    cancelled = await client.post(f"/v1/orders/{first.json()['id']}/cancel", headers=CUSTOMER)
    assert cancelled.json()["status"] == "CANCELLED"

    again = await client.post("/v1/orders", json=body, headers=keyed(CUSTOMER, "o-1"))

    assert again.status_code == first.status_code == 201
    assert again.json() == first.json()
    assert again.json()["status"] == "AWAITING_PAYMENT"
    assert again.content == first.content
    assert again.headers["Idempotent-Replayed"] == "true"
    assert "idempotent-replayed" not in first.headers
    assert again.headers["Location"] == first.headers["Location"]


async def test_defaults_spelled_out_are_the_same_request(client: httpx.AsyncClient) -> None:
    quote_id = await _quote(client)
    terse = order_body(quote_id)
    spelled_out = order_body(
        quote_id,
        holder={**PERSON, "country": "IT"},
        acknowledge_archive_deletion=False,
    )
    first = await client.post("/v1/orders", json=terse, headers=keyed(CUSTOMER, "o-2"))

    again = await client.post("/v1/orders", json=spelled_out, headers=keyed(CUSTOMER, "o-2"))

    assert again.status_code == 201, again.text
    assert again.json() == first.json()


async def test_the_same_key_for_another_order_is_refused(client: httpx.AsyncClient) -> None:
    quote_id = await _quote(client)
    await client.post("/v1/orders", json=order_body(quote_id), headers=keyed(CUSTOMER, "o-3"))

    other = order_body(quote_id, "postal_slip")
    again = await client.post("/v1/orders", json=other, headers=keyed(CUSTOMER, "o-3"))

    problem = assert_problem(again, 422, "idempotency_key_reused")
    assert field_errors(problem) == [("Idempotency-Key", "idempotency_key_reused")]


async def test_concurrent_duplicates_create_one_order(
    client: httpx.AsyncClient, db: Container
) -> None:
    body = order_body(await _quote(client))

    answers = await asyncio.gather(
        *(client.post("/v1/orders", json=body, headers=keyed(CUSTOMER, "o-4")) for _ in range(5))
    )

    assert {a.status_code for a in answers} == {201}
    assert len({a.json()["id"] for a in answers}) == 1
    assert sum(a.headers.get("Idempotent-Replayed") == "true" for a in answers) == 4
    assert await _count(db, "orders") == 1


@pytest.mark.parametrize(
    ("url", "headers"),
    [("/v1/orders", CUSTOMER), ("/v1/orders", PARTNER), (CREDIT_URL, STAFF)],
)
async def test_moving_money_requires_a_key(
    client: httpx.AsyncClient, db: Container, url: str, headers: dict[str, str]
) -> None:
    body = order_body(await _quote(client)) if url == "/v1/orders" else {"amount": "5.00"}

    answer = await client.post(url, json=body, headers=headers)

    problem = assert_problem(answer, 428, "idempotency_key_required")
    assert field_errors(problem) == [("Idempotency-Key", "idempotency_key_required")]
    assert await _count(db, "orders") == 0


async def test_a_replayed_top_up_is_the_first_balance(client: httpx.AsyncClient) -> None:
    first = await client.post(CREDIT_URL, json={"amount": "5.00"}, headers=keyed(STAFF, "t-1"))
    await client.post(CREDIT_URL, json={"amount": "7.00"}, headers=keyed(STAFF, "t-2"))

    again = await client.post(CREDIT_URL, json={"amount": "5.00"}, headers=keyed(STAFF, "t-1"))

    assert again.status_code == 200
    assert again.json()["credit"]["amount"] == first.json()["credit"]["amount"] == "105.00"
    assert again.headers["Idempotent-Replayed"] == "true"


async def test_the_same_top_up_key_for_another_partner_is_refused(
    client: httpx.AsyncClient,
) -> None:
    await client.post(CREDIT_URL, json={"amount": "5.00"}, headers=keyed(STAFF, "t-3"))

    other = await client.post(
        "/v1/admin/partners/ptn-2/credit", json={"amount": "5.00"}, headers=keyed(STAFF, "t-3")
    )

    assert_problem(other, 422, "idempotency_key_reused")
