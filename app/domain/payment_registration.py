"""What a verified payment event does to an order: apply it, record it, wait, or flag it.

Pure and order-independent: given the order's state and the event, the decision is
the same whenever the event arrives. Money that can't be applied is never dropped:
it goes to reconciliation with a reason.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from app.domain.order import OrderStatus


class PaymentEventKind(StrEnum):
    SUCCEEDED = "payment.succeeded"
    FAILED = "payment.failed"
    REFUNDED = "payment.refunded"


@dataclass(frozen=True, slots=True)
class PaymentEvent:
    provider: str
    event_id: str
    kind: PaymentEventKind
    order_ref: str | None  # an order id or an order number, as the provider knows it
    amount_cents: int | None  # None: too large to be stored as a number (never a payment)
    currency: str
    occurred_at: datetime
    cumulative: bool = False  # a refund amount that is the total refunded so far (Stripe)


class Action(StrEnum):
    FULFIL = "fulfil"  # the payment completes the order: renew now
    RECORD_PAYMENT = "record_payment"  # money for an order already fulfilled on commitment
    RECORD_FAILURE = "record_failure"
    RECORD_REFUND = "record_refund"
    WAIT = "wait"  # a refund before its payment: kept until the payment arrives
    RECONCILE = "reconcile"  # never applied, never dropped: staff decide


@dataclass(frozen=True, slots=True)
class Decision:
    action: Action
    reason: str | None = None  # why, for RECONCILE


@dataclass(frozen=True, slots=True)
class OrderPaymentState:
    status: OrderStatus
    payable_cents: int
    currency: str
    paid: bool  # money registered (a PA order can be FULFILLED on commitment, unpaid)
    refunded_cents: int = 0


_ISO_4217 = re.compile(r"[A-Za-z]{3}")


def is_currency_code(currency: str) -> bool:
    """Three letters, as ISO 4217 writes them (any case): "EURO" or "EU" is no currency."""
    return _ISO_4217.fullmatch(currency) is not None


def same_currency(sent: str, expected: str) -> bool:
    """Compared whole, case-insensitively: "eur" is EUR, "EURO" and "eurx" are not."""
    return is_currency_code(sent) and sent.upper() == expected.upper()


def decide(order: OrderPaymentState | None, event: PaymentEvent) -> Decision:
    if event.amount_cents is None:
        return Decision(Action.RECONCILE, "amount_out_of_range")
    if order is None:
        return Decision(Action.RECONCILE, "unknown_order")
    if event.amount_cents <= 0 and event.kind is not PaymentEventKind.FAILED:
        return Decision(Action.RECONCILE, "invalid_amount")
    if event.kind is PaymentEventKind.SUCCEEDED:
        return _payment(order, event, event.amount_cents)
    if event.kind is PaymentEventKind.FAILED:
        # A failure never undoes a payment; on an unpaid order it is only recorded.
        return Decision(Action.RECORD_FAILURE)
    return _refund(order, event, event.amount_cents)


def _payment(order: OrderPaymentState, event: PaymentEvent, amount_cents: int) -> Decision:
    if not same_currency(event.currency, order.currency):
        return Decision(Action.RECONCILE, "currency_mismatch")
    if amount_cents != order.payable_cents:
        return Decision(Action.RECONCILE, "amount_mismatch")
    if order.status in (OrderStatus.CANCELLED, OrderStatus.EXPIRED):
        return Decision(Action.RECONCILE, "order_closed")
    if order.paid:
        return Decision(Action.RECONCILE, "duplicate_payment")
    if order.status is OrderStatus.AWAITING_PAYMENT:
        return Decision(Action.FULFIL)
    return Decision(Action.RECORD_PAYMENT)  # fulfilled on a PA commitment, money arrives now


def _refund(order: OrderPaymentState, event: PaymentEvent, amount_cents: int) -> Decision:
    if not same_currency(event.currency, order.currency):
        return Decision(Action.RECONCILE, "currency_mismatch")
    refundable = (
        order.payable_cents if event.cumulative else order.payable_cents - order.refunded_cents
    )
    if amount_cents > refundable:
        return Decision(Action.RECONCILE, "refund_exceeds_payment")
    if order.paid:
        return Decision(Action.RECORD_REFUND)
    if order.status in (OrderStatus.CANCELLED, OrderStatus.EXPIRED):
        return Decision(Action.RECONCILE, "refund_for_closed_order")
    return Decision(Action.WAIT)
