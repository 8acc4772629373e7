"""A saved payment method: the provider's reference to it, never card data.

Kept when a verified card or PayPal payment pays an order that turned automatic
renewal on, so the renewal can charge it later (off-session); the customer sees and
removes it. For Stripe the reference is the PaymentIntent's `customer` and
`payment_method` ids.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class SavedPaymentMethod:
    id: str
    account_id: str
    provider: str  # "stripe"
    kind: str  # the order's payment method: "card" or "paypal"
    customer_ref: str
    method_ref: str
    order_id: str  # the order whose payment saved it
    created_at: datetime


def stripe_reference(payload: dict[str, Any]) -> tuple[str, str] | None:
    """(customer, payment_method) of a Stripe payment_intent event, when it has both:
    without a customer the method can't be charged off-session."""
    try:
        intent = payload["data"]["object"]
        customer, method = intent.get("customer"), intent.get("payment_method")
    except (KeyError, TypeError, AttributeError):
        return None
    if isinstance(customer, dict):  # expanded objects carry their id
        customer = customer.get("id")
    if isinstance(method, dict):
        method = method.get("id")
    if not isinstance(customer, str) or not isinstance(method, str) or not customer or not method:
        return None
    return customer[:255], method[:255]
