"""Quote → order → signed webhook → renewed mailbox, over HTTP on the real database."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest

from app.container import Container
from tests.api.helpers import put_mailbox
from tests.api.order_helpers import (
    new_key,
    order_body,
    quote_id_for,
    send_generic,
    send_stripe_payment,
)
from tests.conftest import CUSTOMER

pytestmark = pytest.mark.both_units_of_work  # the lean unit of work and SQLAlchemy's


async def test_bank_transfer_order_is_renewed_when_the_transfer_is_registered(
    client: httpx.AsyncClient, db: Container
) -> None:
    await put_mailbox(client, "mbx-1", "STANDARD", expires_on=datetime(2027, 1, 10).date())
    quote_id = await quote_id_for(client, CUSTOMER, [{"mailbox_id": "mbx-1"}])

    placed = await client.post("/v1/orders", json=order_body(quote_id), headers=new_key(CUSTOMER))
    assert placed.status_code == 201, placed.text
    order = placed.json()
    assert order["status"] == "AWAITING_PAYMENT"
    assert order["payable"]["amount"] == "12.08"
    assert order["payment_instructions"]["description"] == order["number"]
    blocked = (await client.get("/v1/mailboxes/mbx-1", headers=CUSTOMER)).json()
    assert [b["code"] for b in blocked["renewal_blockers"]] == ["pending_order_exists"]

    paid = await send_generic(
        client, "payment.succeeded", order["number"], "12.08", datetime.now(UTC)
    )

    assert paid.status_code == 200, paid.text
    assert paid.json()["outcome"] == "fulfil"
    renewed = (await client.get(f"/v1/orders/{order['id']}", headers=CUSTOMER)).json()
    assert renewed["status"] == "FULFILLED"
    mailbox = (await client.get("/v1/mailboxes/mbx-1", headers=CUSTOMER)).json()
    assert mailbox["expires_on"] == "2028-01-10"
    assert mailbox["renewable"] is True


async def test_card_order_turns_automatic_renewal_on(client: httpx.AsyncClient) -> None:
    await put_mailbox(client, "mbx-1", "PRO", expires_on=datetime(2027, 2, 28).date())
    quote_id = await quote_id_for(client, CUSTOMER, [{"mailbox_id": "mbx-1"}], years=2)
    order = (
        await client.post(
            "/v1/orders", json=order_body(quote_id, "card"), headers=new_key(CUSTOMER)
        )
    ).json()

    response = await send_stripe_payment(client, order["id"], 6100, datetime.now(UTC))

    assert response.status_code == 200, response.text
    mailbox = (await client.get("/v1/mailboxes/mbx-1", headers=CUSTOMER)).json()
    assert (mailbox["expires_on"], mailbox["auto_renewal"], mailbox["auto_renewal_years"]) == (
        "2029-02-28",
        True,
        2,
    )


async def test_a_second_quote_for_a_mailbox_with_an_unpaid_order_is_blocked_with_its_id(
    client: httpx.AsyncClient,
) -> None:
    await put_mailbox(client, "mbx-1", "STANDARD")
    quote_id = await quote_id_for(client, CUSTOMER, [{"mailbox_id": "mbx-1"}])
    order = (
        await client.post("/v1/orders", json=order_body(quote_id), headers=new_key(CUSTOMER))
    ).json()

    again = await client.post(
        "/v1/quotes", json={"years": 1, "items": [{"mailbox_id": "mbx-1"}]}, headers=CUSTOMER
    )

    item = again.json()["items"][0]
    assert again.json()["status"] == "blocked"
    assert [(i["code"], i["order_id"]) for i in item["issues"]] == [
        ("pending_order_exists", order["id"])
    ]
    await client.post(f"/v1/orders/{order['id']}/cancel", headers=CUSTOMER)
    after_cancel = await client.post(
        "/v1/quotes", json={"years": 1, "items": [{"mailbox_id": "mbx-1"}]}, headers=CUSTOMER
    )
    assert after_cancel.json()["status"] == "ok"
