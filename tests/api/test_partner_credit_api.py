"""Partner credit: a top-up happens once per Idempotency-Key, and the ledger explains it."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from sqlalchemy import text

from app.container import Container
from tests.api.helpers import put_mailbox
from tests.api.order_helpers import new_key, order_body, quote_id_for
from tests.conftest import PARTNER, STAFF

pytestmark = pytest.mark.both_units_of_work  # the lean unit of work and SQLAlchemy's

URL = "/v1/admin/partners/ptn-1/credit"
OPENING = ("top_up", 10_000, 10_000)  # the fixture's credit, as the ledger's first line


async def _ledger(db: Container) -> list[tuple[str, int, int]]:
    async with db.engine.connect() as connection:
        rows = await connection.execute(
            text(
                "SELECT kind, amount_cents, balance_after_cents FROM partner_credit_movements "
                "ORDER BY id"
            )
        )
        return [(r.kind, r.amount_cents, r.balance_after_cents) for r in rows]


async def test_a_retried_top_up_is_applied_once(client: httpx.AsyncClient, db: Container) -> None:
    headers = {**STAFF, "Idempotency-Key": "topup-1"}

    answers = await asyncio.gather(
        *(client.post(URL, json={"amount": "50.00"}, headers=headers) for _ in range(10))
    )

    assert {a.status_code for a in answers} == {200}
    assert {a.json()["credit"]["amount"] for a in answers} == {"150.00"}  # 100.00 + 50.00
    assert sum(a.headers.get("Idempotent-Replayed") == "true" for a in answers) == 9
    assert await _ledger(db) == [OPENING, ("top_up", 5000, 15000)]


async def test_the_same_key_for_another_amount_is_refused(client: httpx.AsyncClient) -> None:
    headers = {**STAFF, "Idempotency-Key": "topup-1"}
    await client.post(URL, json={"amount": "50.00"}, headers=headers)

    again = await client.post(URL, json={"amount": "60.00"}, headers=headers)

    assert again.status_code == 422
    assert again.json()["code"] == "idempotency_key_reused"


async def test_a_partner_order_is_a_debit_in_the_ledger(
    client: httpx.AsyncClient, db: Container
) -> None:
    await put_mailbox(client, "mbx-p", "STANDARD", account_id="acc-p", partner_id="ptn-1")
    quote_id = await quote_id_for(client, PARTNER, [{"mailbox_id": "mbx-p"}])

    placed = await client.post(
        "/v1/orders", json=order_body(quote_id, "partner_credit"), headers=new_key(PARTNER)
    )

    assert placed.json()["status"] == "FULFILLED"
    assert await _ledger(db) == [OPENING, ("order", -1208, 10000 - 1208)]


async def test_an_unknown_partner_cannot_be_topped_up(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/v1/admin/partners/ptn-nobody/credit",
        json={"amount": "5.00"},
        headers={**STAFF, "Idempotency-Key": "nobody"},
    )

    assert response.status_code == 404
    assert response.json()["code"] == "partner_not_found"


async def test_insufficient_credit_says_what_is_needed_and_available(
    client: httpx.AsyncClient,
) -> None:
    await put_mailbox(client, "mbx-p", "PREMIUM", account_id="acc-p", partner_id="ptn-1")
    quote_id = await quote_id_for(client, PARTNER, [{"mailbox_id": "mbx-p"}], 5)

    refused = await client.post(
        "/v1/orders", json=order_body(quote_id, "partner_credit"), headers=new_key(PARTNER)
    )

    assert refused.status_code == 409, refused.text
    problem = refused.json()
    assert problem["code"] == "insufficient_credit"
    # members a partner's integration can read, not only a sentence
    assert problem["needed"] == {"amount": "244.00", "currency": "EUR"}
    assert problem["available"] == {"amount": "100.00", "currency": "EUR"}
