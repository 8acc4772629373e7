"""Edge cases of ordering and paying that a review turned up, each kept fixed by a test."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from app.adapters.webhook_signing import stripe_signed
from app.container import Container
from app.services import payments
from app.settings import DEV_STRIPE_SECRET
from app.worker import deliverers, run_once
from tests.api.helpers import TODAY, put_mailbox
from tests.api.order_helpers import (
    new_key,
    order_body,
    quote_id_for,
    send_generic,
    send_stripe_payment,
)
from tests.conftest import CUSTOMER, STAFF, MovableClock

pytestmark = pytest.mark.both_units_of_work  # the lean unit of work and SQLAlchemy's


async def _order(client: httpx.AsyncClient, items: list[str], method: str = "bank_transfer") -> Any:
    quote_id = await quote_id_for(client, CUSTOMER, [{"mailbox_id": m} for m in items])
    response = await client.post(
        "/v1/orders", json=order_body(quote_id, method), headers=new_key(CUSTOMER)
    )
    assert response.status_code == 201, response.text
    return response.json()


async def test_two_orders_holding_the_same_mailboxes_in_opposite_order_never_deadlock(
    client: httpx.AsyncClient,
) -> None:
    await put_mailbox(client, "mbx-a")
    await put_mailbox(client, "mbx-b")
    for _ in range(5):
        one = await quote_id_for(
            client, CUSTOMER, [{"mailbox_id": "mbx-a"}, {"mailbox_id": "mbx-b"}]
        )
        two = await quote_id_for(
            client, CUSTOMER, [{"mailbox_id": "mbx-b"}, {"mailbox_id": "mbx-a"}]
        )

        answers = await asyncio.gather(
            *(
                client.post("/v1/orders", json=order_body(q), headers=new_key(CUSTOMER))
                for q in (one, two)
            )
        )

        assert sorted(a.status_code for a in answers) == [201, 409]
        placed = next(a for a in answers if a.status_code == 201).json()
        await client.post(f"/v1/orders/{placed['id']}/cancel", headers=CUSTOMER)


async def test_a_quote_no_longer_describes_a_mailbox_renewed_since(
    client: httpx.AsyncClient,
) -> None:
    await put_mailbox(client, "mbx-1", "PRO")
    first = await quote_id_for(client, CUSTOMER, [{"mailbox_id": "mbx-1"}])
    second = await quote_id_for(client, CUSTOMER, [{"mailbox_id": "mbx-1"}])
    order = (
        await client.post("/v1/orders", json=order_body(first, "card"), headers=new_key(CUSTOMER))
    ).json()
    await send_stripe_payment(client, order["id"], 3050, datetime.now(UTC))

    again = await client.post("/v1/orders", json=order_body(second), headers=new_key(CUSTOMER))

    assert again.status_code == 409
    assert again.json()["code"] == "quote_expired"


async def test_a_payment_arriving_after_the_grace_is_kept_not_applied(
    client: httpx.AsyncClient, clock: MovableClock
) -> None:
    expired_on = TODAY - timedelta(days=85)
    await put_mailbox(client, "mbx-1", "STANDARD", expires_on=expired_on)
    order = await _order(client, ["mbx-1"])
    clock.advance(timedelta(days=10))  # no sweep ran: the payment finds the order open

    answer = await send_generic(
        client, "payment.succeeded", order["number"], "12.08", datetime.now(UTC)
    )

    assert answer.json()["outcome"] == "reconcile"
    after = (await client.get(f"/v1/orders/{order['id']}", headers=CUSTOMER)).json()
    assert after["status"] == "EXPIRED"
    mailbox = (await client.get("/v1/mailboxes/mbx-1", headers=CUSTOMER)).json()
    assert (mailbox["status"], mailbox["expires_on"]) == ("DELETED", expired_on.isoformat())


async def test_a_checkout_session_event_is_not_a_payment(client: httpx.AsyncClient) -> None:
    await put_mailbox(client, "mbx-1")
    order = await _order(client, ["mbx-1"], "card")
    now = datetime.now(UTC)
    session = {
        "id": "evt_checkout_1",
        "type": "checkout.session.completed",
        "created": int(now.timestamp()),
        "data": {
            "object": {
                "amount_total": 1208,
                "currency": "eur",
                "payment_status": "unpaid",
                "metadata": {"order_id": order["id"]},
            }
        },
    }
    body, headers = stripe_signed(session, DEV_STRIPE_SECRET, now)

    answer = await client.post("/v1/webhooks/payments/stripe", content=body, headers=headers)

    assert answer.json()["outcome"] == "ignored"
    status = (await client.get(f"/v1/orders/{order['id']}", headers=CUSTOMER)).json()["status"]
    assert status == "AWAITING_PAYMENT"


async def test_stripe_partial_refunds_count_the_charge_total_once(
    client: httpx.AsyncClient,
) -> None:
    await put_mailbox(client, "mbx-1")
    order = await _order(client, ["mbx-1"], "card")
    now = datetime.now(UTC)
    await send_stripe_payment(client, order["id"], 1208, now)

    for event_id, refunded_so_far in (("evt_r1", 500), ("evt_r2", 1000)):
        refund = {
            "id": event_id,
            "type": "charge.refunded",
            "created": int(now.timestamp()),
            "data": {
                "object": {
                    "amount_refunded": refunded_so_far,
                    "currency": "eur",
                    "metadata": {"order_id": order["id"]},
                }
            },
        }
        body, headers = stripe_signed(refund, DEV_STRIPE_SECRET, now)
        answer = await client.post("/v1/webhooks/payments/stripe", content=body, headers=headers)
        assert answer.json()["outcome"] == "record_refund"

    after = (await client.get(f"/v1/orders/{order['id']}", headers=CUSTOMER)).json()
    assert after["refunded"]["amount"] == "10.00"
    assert after["status"] == "FULFILLED"


async def test_an_event_that_always_fails_is_retried_for_a_day_then_flagged(
    client: httpx.AsyncClient,
    db: Container,
    clock: MovableClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    await put_mailbox(client, "mbx-1")
    order = await _order(client, ["mbx-1"])

    async def broken(*_args: object, **_kwargs: object) -> str:
        raise RuntimeError("a bug in applying this event")

    monkeypatch.setattr(payments, "apply_event", broken)
    await send_generic(client, "payment.succeeded", order["number"], "12.08", datetime.now(UTC))
    clock.advance(timedelta(minutes=1))
    async with httpx.AsyncClient() as http:
        worked = await run_once(db, deliverers(db, http))

        assert worked >= 1
        assert (await client.get("/v1/admin/reconciliation", headers=STAFF)).json()["items"] == []

        clock.advance(timedelta(hours=24))
        await run_once(db, deliverers(db, http))

    (flagged,) = (await client.get("/v1/admin/reconciliation", headers=STAFF)).json()["items"]
    assert flagged["reason"] == "processing_failed"
    assert flagged["attempts"] == 3  # on receipt, a minute later, a day later
    assert flagged["last_error"] == "RuntimeError: a bug in applying this event"
