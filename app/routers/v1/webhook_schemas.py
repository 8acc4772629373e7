"""What a payment webhook carries, for the contract only.

The endpoint reads the raw body (signatures are over its bytes) and never lets FastAPI
parse it, so the body and the signature headers are declared here, as documentation:
a verified body that doesn't match is still stored (kind `unreadable`), never refused.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

_ORDER = "ord_1428fd02bedf4fe6aa580fd28d206fcc"  # PEC-2026-0000003: 12.08 by card

GENERIC_EVENT: dict[str, Any] = {
    "title": "GenericPaymentEvent",
    "type": "object",
    "description": "`generic` (Standard Webhooks): the bank-transfer/postal feed and any "
    "other provider. The event id is the `webhook-id` header.",
    "required": ["type", "data"],
    "properties": {
        "type": {
            "type": "string",
            "enum": ["payment.succeeded", "payment.failed", "payment.refunded"],
            "description": "What happened to the payment.",
        },
        "data": {
            "type": "object",
            "description": "The payment.",
            "required": ["order", "amount", "currency"],
            "properties": {
                "order": {
                    "type": "string",
                    "description": "The order's `id` (`ord_…`) or its number "
                    "(`PEC-2026-0000042`, what a bank transfer's description carries).",
                    "examples": ["PEC-2026-0000002"],
                },
                "amount": {
                    "type": ["string", "number"],
                    "description": "The amount in `currency`: a decimal with at most two "
                    'decimals, best as a string ("28.00"); must equal the order\'s `payable`.',
                    "examples": ["28.00"],
                },
                "currency": {
                    "type": "string",
                    "description": "ISO 4217 code, any case (`EUR`).",
                    "examples": ["EUR"],
                },
            },
        },
    },
}

STRIPE_EVENT: dict[str, Any] = {
    "title": "StripeEvent",
    "type": "object",
    "description": "`stripe`: a Stripe event, as Stripe sends it (only the members below "
    "are read). `payment_intent.succeeded`, `payment_intent.payment_failed` and "
    "`charge.refunded` are applied; any other type is stored and ignored.",
    "required": ["id", "type", "data"],
    "properties": {
        "id": {"type": "string", "description": "Stripe's event id (`evt_…`)."},
        "type": {
            "type": "string",
            "description": "The Stripe event type.",
            "examples": ["payment_intent.succeeded", "charge.refunded"],
        },
        "created": {"type": "integer", "description": "When it happened, Unix seconds."},
        "data": {
            "type": "object",
            "description": "The event's data.",
            "required": ["object"],
            "properties": {
                "object": {
                    "type": "object",
                    "description": "The PaymentIntent or Charge: `amount_received` "
                    "(succeeded), `amount` (failed) or `amount_refunded` (refunded) in "
                    "cents, `currency`, and `metadata.order_id`, the order's `id`.",
                }
            },
        },
    },
}

WEBHOOK_REQUEST_BODY: dict[str, Any] = {
    "required": True,
    "description": "The event, as the provider signed it: send the bytes unchanged.",
    "content": {
        "application/json": {
            "schema": {"anyOf": [GENERIC_EVENT, STRIPE_EVENT]},
            "examples": {
                "generic": {
                    "summary": "generic: a bank transfer for a public administration's order",
                    "value": {
                        "type": "payment.succeeded",
                        "data": {
                            "order": "PEC-2026-0000002",
                            "amount": "28.00",
                            "currency": "EUR",
                        },
                    },
                },
                "stripe": {
                    "summary": "stripe: a card payment of 12.08 (payment_intent.succeeded)",
                    "value": {
                        "id": "evt_3QhR7sLkP2wXyZ0a1bC2dE3f",
                        "object": "event",
                        "api_version": "2024-06-20",
                        "created": 1796147400,
                        "livemode": False,
                        "pending_webhooks": 1,
                        "request": {"id": None, "idempotency_key": None},
                        "type": "payment_intent.succeeded",
                        "data": {
                            "object": {
                                "id": "pi_3QhR7sLkP2wXyZ0a0RfT9uVw",
                                "object": "payment_intent",
                                "amount": 1208,
                                "amount_received": 1208,
                                "currency": "eur",
                                "status": "succeeded",
                                "payment_method_types": ["card"],
                                "created": 1796147360,
                                "description": "PEC-2026-0000003",
                                "metadata": {"order_id": _ORDER},
                            }
                        },
                    },
                },
            },
        }
    },
}


def _header(name: str, description: str, example: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "header",
        "required": False,
        "description": description,
        "schema": {"type": "string", "examples": [example]},
    }


SIGNATURE_HEADERS = [
    _header(
        "Stripe-Signature",
        "`stripe` only, required there: `t=<Unix seconds>,v1=<hex HMAC-SHA256>` over "
        "`<t>.<raw body>` with STRIPE_WEBHOOK_SECRET; `t` within 5 minutes of now.",
        "t=1796147400,v1=5257a869e7ecebeda32affa62cdca3fa51cad7e77a0e56ff536d0ce8e108d8bd",
    ),
    _header(
        "webhook-id",
        "`generic` only, required there: the event's id, unique per event (a redelivery "
        "keeps it: it is how a duplicate is recognised).",
        "msg_2Lh9XcQ8dF3kW5mN",
    ),
    _header(
        "webhook-timestamp",
        "`generic` only, required there: when it was signed, Unix seconds, within 5 "
        "minutes of now.",
        "1796147400",
    ),
    _header(
        "webhook-signature",
        "`generic` only, required there: `v1,<base64 HMAC-SHA256>` over "
        "`<webhook-id>.<webhook-timestamp>.<raw body>` with GENERIC_WEBHOOK_SECRET "
        "(several, space-separated, during a key rotation).",
        "v1,K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4=",
    ),
]


class WebhookAck(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"received": True, "duplicate": False, "outcome": "fulfil"},
                {"received": True, "duplicate": True, "outcome": None},
            ]
        }
    )

    received: bool = Field(description="Always true: the event is stored.")
    duplicate: bool = Field(
        description="This (provider, event id) was stored before: nothing was done again."
    )
    outcome: str | None = Field(
        description="What the event did: `fulfil`, `record_payment`, `record_failure`, "
        "`record_refund`, `wait`, `ignored` or `reconcile` (held for staff); null for a "
        "duplicate, or when applying it failed and is retried later."
    )
