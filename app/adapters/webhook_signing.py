"""Signing payment webhooks the way the providers do: for the sandbox and for tests.

Verification never uses this module: it uses the providers' own libraries.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from datetime import datetime
from typing import Any

from standardwebhooks import Webhook

from app.domain.money import Money


def stripe_signed(
    payload: dict[str, Any], secret: str, at: datetime
) -> tuple[bytes, dict[str, str]]:
    """The body and Stripe-Signature header Stripe would send (t=…,v1=HMAC-SHA256)."""
    body = json.dumps(payload).encode()
    timestamp = int(at.timestamp())
    signed = f"{timestamp}.".encode() + body
    signature = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return body, {
        "Stripe-Signature": f"t={timestamp},v1={signature}",
        "Content-Type": "application/json",
    }


def generic_signed(
    payload: dict[str, Any], secret: str, at: datetime, event_id: str | None = None
) -> tuple[bytes, dict[str, str]]:
    """The body and Standard Webhooks headers for the generic feed."""
    body = json.dumps(payload)
    message_id = event_id or f"msg_{uuid.uuid4().hex}"
    signature = Webhook(secret).sign(message_id, at, body)
    return body.encode(), {
        "webhook-id": message_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": signature,
        "Content-Type": "application/json",
    }


def stripe_payment_succeeded(
    order_id: str,
    amount_cents: int,
    currency: str,
    at: datetime,
    event_id: str | None = None,
    *,
    customer: str | None = None,
    payment_method: str | None = None,
) -> dict[str, Any]:
    """A payment_intent.succeeded event; with `customer` and `payment_method` the
    method is saved for future off-session charges, as Stripe reports it."""
    saved = {"customer": customer, "payment_method": payment_method} if customer else {}
    return {
        "id": event_id or f"evt_{uuid.uuid4().hex}",
        "object": "event",
        "type": "payment_intent.succeeded",
        "created": int(at.timestamp()),
        "data": {
            "object": {
                "id": f"pi_{uuid.uuid4().hex[:24]}",
                "object": "payment_intent",
                "amount_received": amount_cents,
                "currency": currency.lower(),
                "metadata": {"order_id": order_id},
                **saved,
            }
        },
    }


def generic_payment(kind: str, order_ref: str, amount: str, currency: str) -> dict[str, Any]:
    return {"type": kind, "data": {"order": order_ref, "amount": amount, "currency": currency}}


# What the sandbox's card payments are saved as (Stripe's own test method).
SANDBOX_CUSTOMER = "cus_sandbox"
SANDBOX_PAYMENT_METHOD = "pm_card_visa"


def signed_payment(
    *,
    order_id: str,
    order_number: str,
    payable_cents: int,
    currency: str,
    by_card: bool,
    secrets: dict[str, str],
    at: datetime,
) -> tuple[str, bytes, dict[str, str]]:
    """The provider, body and headers of a correctly signed webhook paying an order:
    card and PayPal through `stripe` (the method saved, as Stripe does for an automatic
    renewal), the others through the `generic` feed by order number, as a transfer."""
    if by_card:
        event = stripe_payment_succeeded(
            order_id,
            payable_cents,
            currency,
            at,
            customer=SANDBOX_CUSTOMER,
            payment_method=SANDBOX_PAYMENT_METHOD,
        )
        body, headers = stripe_signed(event, secrets["stripe"], at)
        return "stripe", body, headers
    amount = str(Money(payable_cents, currency).amount)
    generic = generic_payment("payment.succeeded", order_number, amount, currency)
    body, headers = generic_signed(generic, secrets["generic"], at)
    return "generic", body, headers
