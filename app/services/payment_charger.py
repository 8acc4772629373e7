"""Charging a saved payment method without the customer present (off-session).

The automatic renewal asks a PaymentCharger to charge an order; the adapters in
app/adapters are Stripe's API (app/adapters/stripe_charges.py) and, in the sandbox, a
charger that sends the service its own signed webhook (app/adapters/sandbox_payments.py).
An approved charge changes nothing here: the order completes on the provider's signed
webhook, like any other payment.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class Charge:
    order_id: str  # also the Idempotency-Key: a retried request never charges twice
    order_number: str
    amount_cents: int
    currency: str
    customer_ref: str
    method_ref: str


@dataclass(frozen=True, slots=True)
class ChargeResult:
    approved: bool
    reason: str | None = None  # why not: the provider's decline code, or what failed


class PaymentCharger(Protocol):
    async def charge(self, charge: Charge) -> ChargeResult:
        """Charge once; a decline is a result, never an exception."""
        ...
