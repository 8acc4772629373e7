"""Automatic renewal end to end on PostgreSQL, with an injected clock: a card order turns
it on and saves the method; 7 days before expiry the worker orders the renewal and
charges the saved method on a loopback Stripe; the signed webhook completes it. A
decline is emailed (over SMTP) with a transfer, retried at -5 and -3, and a transfer
ends it; a blocked quote is not charged; a removed method is not charged."""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from app.adapters.webhook_signing import stripe_payment_succeeded, stripe_signed
from app.container import Container
from app.db.models import OutboxRow
from app.services.automatic_renewals import renew_automatically
from app.settings import DEV_STRIPE_SECRET
from app.worker import auto_renewal_setup, deliverers, payment_charger, run_once
from tests.api.helpers import TODAY, field_errors, put_mailbox
from tests.api.loopback_servers import MailPlatform, SmtpServer, worker_container
from tests.api.order_helpers import new_key, order_body, pay_in_full, quote_id_for
from tests.api.stripe_loopback import FakeStripe, fake_stripe
from tests.conftest import CUSTOMER, OTHER_CUSTOMER, MovableClock

__all__ = ["fake_stripe"]
pytestmark = [pytest.mark.db, pytest.mark.both_units_of_work]  # saved methods on both

EXPIRY = TODAY + timedelta(days=30)
RENEWED = EXPIRY.replace(year=EXPIRY.year + 1)
Pass = Callable[[], Awaitable[int]]


@pytest.fixture
async def sweep(
    db: Container, smtp: SmtpServer, platform: MailPlatform, fake_stripe: FakeStripe
) -> AsyncIterator[Pass]:
    """One pass of the real worker: Stripe on loopback, SMTP and the mail platform too."""
    container = worker_container(db, smtp.port, platform.url)
    settings = container.settings.model_copy(
        update={"stripe_api_key": "sk_test_loopback", "stripe_api_base": fake_stripe.url}
    )
    container = dataclasses.replace(container, settings=settings)
    async with httpx.AsyncClient() as http:
        senders = deliverers(container, http)
        charger = payment_charger(container, http)

        async def once() -> int:
            return await run_once(container, senders, charger)

        yield once


async def stripe_pays(
    client: httpx.AsyncClient, order: dict[str, Any], *, saved: bool = True
) -> httpx.Response:
    """Stripe's signed payment_intent.succeeded, with the saved customer and method."""
    cents = int(order["payable"]["amount"].replace(".", ""))
    now = datetime.now(UTC)  # the signature's timestamp is checked against real time
    extra = {"customer": "cus_mario", "payment_method": "pm_visa_4242"} if saved else {}
    event = stripe_payment_succeeded(order["id"], cents, "EUR", now, **extra)
    body, headers = stripe_signed(event, DEV_STRIPE_SECRET, now)
    return await client.post("/v1/webhooks/payments/stripe", content=body, headers=headers)


async def card_order(client: httpx.AsyncClient, **overrides: Any) -> dict[str, Any]:
    quote_id = await quote_id_for(client, CUSTOMER, [{"mailbox_id": "mbx-1"}])
    response = await client.post(
        "/v1/orders", json=order_body(quote_id, "card", **overrides), headers=new_key(CUSTOMER)
    )
    assert response.status_code == 201, response.text
    order: dict[str, Any] = response.json()
    return order


async def renewed_by_card(client: httpx.AsyncClient, **mailbox: Any) -> None:
    """mbx-1 bought by card: automatic renewal on, the method saved, expiring RENEWED."""
    await put_mailbox(client, "mbx-1", expires_on=EXPIRY, **mailbox)
    order = await card_order(client)
    assert order["automatic_renewal"] is True
    assert (await stripe_pays(client, order)).json()["outcome"] == "fulfil"


async def mailbox(client: httpx.AsyncClient) -> dict[str, Any]:
    found: dict[str, Any] = (await client.get("/v1/mailboxes/mbx-1", headers=CUSTOMER)).json()
    return found


async def automatic_orders(client: httpx.AsyncClient) -> list[dict[str, Any]]:
    orders = (await client.get("/v1/orders", headers=CUSTOMER)).json()["items"]
    return [order for order in orders if order["placed_automatically"]]


async def emails(db: Container, prefix: str) -> list[dict[str, Any]]:
    async with db.sessionmaker() as session:
        rows = await session.scalars(
            select(OutboxRow).where(OutboxRow.dedupe_key.startswith(prefix)).order_by(OutboxRow.id)
        )
        return [dict(row.payload, key=row.dedupe_key) for row in rows]


def days_before(clock: MovableClock, expiry: date, days: int) -> None:
    clock.now = datetime.combine(expiry - timedelta(days=days), datetime.min.time(), UTC).replace(
        hour=9
    )


async def test_seven_days_before_expiry_the_saved_card_is_charged_and_the_webhook_renews(
    client: httpx.AsyncClient,
    db: Container,
    clock: MovableClock,
    sweep: Pass,
    fake_stripe: FakeStripe,
    smtp: SmtpServer,
) -> None:
    await renewed_by_card(client)
    assert ((await mailbox(client))["expires_on"], (await mailbox(client))["auto_renewal"]) == (
        RENEWED.isoformat(),
        True,
    )

    days_before(clock, RENEWED, 17)
    await sweep()
    assert [m["subject"] for m in await emails(db, "auto-renewal-notice:")] == [
        f"Rinnovo automatico della casella mbx-1@pec.example.it il "
        f"{(RENEWED - timedelta(days=7)).strftime('%d/%m/%Y')}"
    ]
    assert fake_stripe.requests == []

    days_before(clock, RENEWED, 7)
    await sweep()
    await sweep()  # a second pass (or worker) charges nothing more

    [order] = await automatic_orders(client)
    assert (order["status"], order["payment_method"], order["automatic_renewal"]) == (
        "AWAITING_PAYMENT",
        "card",
        True,
    )
    [intent] = fake_stripe.requests
    assert intent.path == "/v1/payment_intents"
    assert intent.headers["idempotency-key"] == order["id"]
    assert intent.headers["authorization"] == "Bearer sk_test_loopback"
    assert intent.form == {
        "amount": "1208",
        "currency": "eur",
        "customer": "cus_mario",
        "payment_method": "pm_visa_4242",
        "off_session": "true",
        "confirm": "true",
        "metadata[order_id]": order["id"],
        "description": order["number"],
    }

    assert (await stripe_pays(client, order)).json()["outcome"] == "fulfil"
    renewed = await mailbox(client)
    assert (renewed["expires_on"], renewed["auto_renewal"]) == (
        RENEWED.replace(year=RENEWED.year + 1).isoformat(),
        True,
    )
    days_before(clock, RENEWED, 5)
    await sweep()
    assert len(fake_stripe.requests) == 1
    assert any("Rinnovo automatico" in r.message["Subject"] for r in smtp.inbox.received)


async def test_a_declined_card_is_emailed_retried_and_a_transfer_ends_it(
    client: httpx.AsyncClient,
    db: Container,
    clock: MovableClock,
    sweep: Pass,
    fake_stripe: FakeStripe,
    smtp: SmtpServer,
) -> None:
    await renewed_by_card(client, partner_id="ptn-1")
    fake_stripe.decline = True

    for days in (7, 6, 5, 4, 3):
        days_before(clock, RENEWED, days)
        await sweep()

    [order] = await automatic_orders(client)
    assert order["status"] == "AWAITING_PAYMENT"
    assert [r.headers["idempotency-key"] for r in fake_stripe.requests] == [order["id"]] * 3
    declined = await emails(db, "auto-renewal-declined:")
    assert len(declined) == 3
    assert "IT60X0542811101000000123456" in declined[0]["text"]
    assert order["number"] in declined[0]["text"]
    delivered = [r for r in smtp.inbox.received if "non riuscito" in r.message["Subject"]]
    assert len(delivered) == 3
    # the partner heard of the card purchase's renewal, then of each declined charge
    partner_events = await emails(db, "partner-event:")
    assert [e["type"] for e in partner_events] == ["renewal.completed"] + ["payment.failed"] * 3
    failed = [e for e in partner_events if e["type"] == "payment.failed"]
    assert {e["data"]["order_id"] for e in failed} == {order["id"]}

    paid = await pay_in_full(client, order)
    assert paid.json()["outcome"] == "fulfil"
    assert (await mailbox(client))["expires_on"] == RENEWED.replace(
        year=RENEWED.year + 1
    ).isoformat()

    days_before(clock, RENEWED, 1)
    await sweep()
    assert len(fake_stripe.requests) == 3  # renewed: nothing left to charge


async def test_a_blocked_quote_is_not_charged_and_the_holder_is_told_once(
    client: httpx.AsyncClient,
    db: Container,
    clock: MovableClock,
    sweep: Pass,
    fake_stripe: FakeStripe,
) -> None:
    await renewed_by_card(client)
    # 1,500 MB used on a 1 GB STANDARD: the renewal needs +1 GB (insufficient_mailbox_space).
    await put_mailbox(client, "mbx-1", expires_on=RENEWED, used_mailbox_mb=1500)

    for days in (7, 5, 3):
        days_before(clock, RENEWED, days)
        await sweep()

    assert fake_stripe.requests == []
    assert await automatic_orders(client) == []
    [blocked] = await emails(db, "auto-renewal-blocked:")
    assert blocked["to"] == "mario.rossi@example.it"
    assert "- Spazio insufficiente: aggiungi almeno 1 GB alla casella." in blocked["text"]


async def test_a_removed_payment_method_is_not_charged(
    client: httpx.AsyncClient,
    db: Container,
    clock: MovableClock,
    sweep: Pass,
    fake_stripe: FakeStripe,
) -> None:
    await renewed_by_card(client)
    [method] = (await client.get("/v1/payment-methods", headers=CUSTOMER)).json()["items"]
    assert (method["provider"], method["kind"]) == ("stripe", "card")
    assert "cus_mario" not in str(method)
    assert "pm_visa_4242" not in str(method)

    others = await client.delete(f"/v1/payment-methods/{method['id']}", headers=OTHER_CUSTOMER)
    assert (others.status_code, others.json()["code"]) == (404, "payment_method_not_found")
    removed = await client.delete(f"/v1/payment-methods/{method['id']}", headers=CUSTOMER)
    assert (removed.status_code, removed.json()) == (200, {"items": []})
    assert (await client.get("/v1/payment-methods", headers=CUSTOMER)).json()["items"] == []

    days_before(clock, RENEWED, 7)
    await sweep()

    assert fake_stripe.requests == []
    [order] = await automatic_orders(client)
    assert order["status"] == "AWAITING_PAYMENT"
    [declined] = await emails(db, "auto-renewal-declined:")
    assert "metodo di pagamento salvato" in declined["text"]


async def test_the_customer_can_cancel_the_automatic_order_and_it_is_not_charged_again(
    client: httpx.AsyncClient,
    clock: MovableClock,
    sweep: Pass,
    fake_stripe: FakeStripe,
) -> None:
    await renewed_by_card(client)
    fake_stripe.decline = True
    days_before(clock, RENEWED, 7)
    await sweep()
    [order] = await automatic_orders(client)

    cancelled = await client.post(f"/v1/orders/{order['id']}/cancel", headers=CUSTOMER)
    assert cancelled.status_code == 200, cancelled.text
    days_before(clock, RENEWED, 5)
    await sweep()

    assert len(fake_stripe.requests) == 1
    assert [o["status"] for o in await automatic_orders(client)] == ["CANCELLED"]


async def test_a_card_order_without_automatic_renewal_leaves_it_off_and_saves_nothing(
    client: httpx.AsyncClient,
) -> None:
    await put_mailbox(client, "mbx-1", expires_on=EXPIRY)
    order = await card_order(client, automatic_renewal=False)
    assert order["automatic_renewal"] is False

    assert (await stripe_pays(client, order)).json()["outcome"] == "fulfil"

    assert (await mailbox(client))["auto_renewal"] is False
    assert (await client.get("/v1/payment-methods", headers=CUSTOMER)).json()["items"] == []


async def test_automatic_renewal_can_not_be_asked_of_a_bank_transfer(
    client: httpx.AsyncClient,
) -> None:
    await put_mailbox(client, "mbx-1", expires_on=EXPIRY)
    quote_id = await quote_id_for(client, CUSTOMER, [{"mailbox_id": "mbx-1"}])

    response = await client.post(
        "/v1/orders",
        json=order_body(quote_id, "bank_transfer", automatic_renewal=True),
        headers={**CUSTOMER, "Idempotency-Key": uuid.uuid4().hex},
    )

    assert response.status_code == 422
    assert field_errors(response.json()) == [("automatic_renewal", "automatic_renewal_needs_card")]
    plain = await client.post(
        "/v1/orders", json=order_body(quote_id, "bank_transfer"), headers=new_key(CUSTOMER)
    )
    assert plain.json()["automatic_renewal"] is False


async def test_two_workers_sweeping_at_once_charge_once(
    client: httpx.AsyncClient, clock: MovableClock, sweep: Pass, fake_stripe: FakeStripe
) -> None:
    await renewed_by_card(client)
    days_before(clock, RENEWED, 7)

    await asyncio.gather(sweep(), sweep(), sweep())

    assert len(await automatic_orders(client)) == 1
    assert len(fake_stripe.requests) == 1


async def test_in_the_sandbox_the_charge_is_paid_by_a_signed_webhook_to_itself(
    client: httpx.AsyncClient, db: Container, clock: MovableClock
) -> None:
    await renewed_by_card(client)
    sandbox = dataclasses.replace(db, settings=db.settings.model_copy(update={"sandbox": True}))
    days_before(clock, RENEWED, 7)

    async with httpx.AsyncClient() as http:
        charger = payment_charger(sandbox, http)
        assert charger is not None
        await renew_automatically(
            sandbox.unit_of_work, auto_renewal_setup(sandbox, charger), clock.now
        )

    [order] = await automatic_orders(client)
    assert order["status"] == "FULFILLED"
    assert (await mailbox(client))["expires_on"] == RENEWED.replace(
        year=RENEWED.year + 1
    ).isoformat()
