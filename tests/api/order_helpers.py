"""Helpers for the order and payment tests: valid order bodies, signed webhooks."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import httpx

from app.adapters.webhook_signing import (
    generic_payment,
    generic_signed,
    stripe_payment_succeeded,
    stripe_signed,
)
from app.settings import DEV_GENERIC_SECRET, DEV_STRIPE_SECRET

PERSON = {
    "kind": "person",
    "name": "Mario Rossi",
    "tax_code": "RSSMRA85T10A562S",
    "email": "mario.rossi@example.it",
    "address": "Via Roma 1",
    "postal_code": "00100",
    "city": "Roma",
    "province": "RM",
}
COMPANY = {**PERSON, "kind": "company", "name": "Rossi Srl", "tax_code": "00743110157"}
PUBLIC_ADMINISTRATION = {
    **PERSON,
    "kind": "public_administration",
    "name": "Comune di Esempio",
    "tax_code": "80016350821",
}
ALL_CONSENTS = {"terms": True, "unfair_terms": True, "privacy": True}


def order_body(quote_id: object, method: str = "bank_transfer", **overrides: Any) -> dict[str, Any]:
    """A valid order body; `quote_id` is any JSON value (malformed tests send non-strings)."""
    return {
        "quote_id": quote_id,
        "holder": PERSON,
        "payment_method": method,
        "consents": ALL_CONSENTS,
        **overrides,
    }


async def quote_id_for(
    client: httpx.AsyncClient, headers: dict[str, str], items: list[dict[str, Any]], years: int = 1
) -> str:
    response = await client.post(
        "/v1/quotes", json={"years": years, "items": items}, headers=headers
    )
    assert response.status_code == 201, response.text
    assert response.json()["status"] == "ok", response.json()
    quote_id: str = response.json()["id"]
    return quote_id


async def send_generic(
    client: httpx.AsyncClient,
    kind: str,
    order_ref: str,
    amount: str,
    at: datetime,
    *,
    currency: str = "EUR",
    event_id: str | None = None,
    secret: str = DEV_GENERIC_SECRET,
) -> httpx.Response:
    body, headers = generic_signed(
        generic_payment(kind, order_ref, amount, currency), secret, at, event_id
    )
    return await client.post("/v1/webhooks/payments/generic", content=body, headers=headers)


async def pay_in_full(
    client: httpx.AsyncClient, order: dict[str, Any], event_id: str | None = None
) -> httpx.Response:
    """The provider's `payment.succeeded` for exactly what `order` (its JSON) asks."""
    return await send_generic(
        client,
        "payment.succeeded",
        order["number"],
        order["payable"]["amount"],
        datetime.now(UTC),
        event_id=event_id,
    )


async def send_stripe_payment(
    client: httpx.AsyncClient,
    order_id: str,
    amount_cents: int,
    at: datetime,
    *,
    event_id: str | None = None,
    secret: str = DEV_STRIPE_SECRET,
) -> httpx.Response:
    event = stripe_payment_succeeded(order_id, amount_cents, "EUR", at, event_id)
    body, headers = stripe_signed(event, secret, at)
    return await client.post("/v1/webhooks/payments/stripe", content=body, headers=headers)


def new_key(headers: dict[str, str]) -> dict[str, str]:
    """`headers` with a fresh Idempotency-Key: orders move money and require one."""
    return {**headers, "Idempotency-Key": uuid.uuid4().hex}
