"""Payment registration: store every verified event once, then apply it exactly once.

Receiving stores the event and applies it in one transaction, committed before the
2xx: the order is locked, the domain decides, the fulfilment happens, the event is
marked processed — all or nothing. Should applying fail, the event is stored alone
with the failure noted, and the worker applies it later (see payment_retries).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import make_transient_to_detached

from app.db.models import OrderRow, PaymentEventRow
from app.db.transient import describe, is_transient
from app.db.unit_of_work import UnitOfWork
from app.domain.order import OrderStatus, sequence_of
from app.domain.payment_registration import (
    Action,
    OrderPaymentState,
    PaymentEvent,
    PaymentEventKind,
    decide,
)
from app.domain.payment_retry import next_attempt
from app.services.errors import PaymentEventNotStored
from app.services.fulfilment import fulfil, lock_mailboxes, still_renewable
from app.services.orders import close_order

UowFactory = Callable[[], UnitOfWork]
log = logging.getLogger("app.payments")


@dataclass(frozen=True, slots=True)
class Receipt:
    duplicate: bool
    outcome: str | None  # what processing did (None: a duplicate, or left to the worker)


async def receive_event(
    uow_factory: UowFactory, provider: str, event: dict[str, Any], now: datetime
) -> Receipt:
    """Store and apply an event in one transaction, committed before the 2xx.

    If applying fails, the event is still stored, alone, for the worker to retry: a
    verified event is never lost, and its effects are never half-applied. If even that
    can't be stored, PaymentEventNotStored: the provider must deliver it again.
    """
    values = {**event, "provider": provider, "received_at": now}
    try:
        async with uow_factory() as uow:
            row_id = await uow.payment_events.add(values)
            if row_id is None:
                return Receipt(duplicate=True, outcome=None)
            stored = _as_stored(row_id, values)
            uow.session.add(stored)  # persistent: what apply_event changes is an UPDATE
            outcome = await apply_event(uow, stored, now)
            stored.processed_at = now
            await uow.commit()
            return Receipt(duplicate=False, outcome=outcome)
    except TimeoutError:
        raise  # the database is not answering: storing the event alone would wait as long again
    except Exception as exc:
        _log_failure(exc, "applying a received payment event failed: stored for the worker")
        failure = exc
    try:
        async with uow_factory() as uow:
            row_id = await uow.payment_events.add({**values, **_first_failure(failure, now)})
            await uow.commit()
    except Exception as exc:
        _log_failure(exc, "a verified payment event could not be stored: the provider retries")
        raise PaymentEventNotStored from exc
    return Receipt(duplicate=row_id is None, outcome=None)


async def process_event(uow_factory: UowFactory, event_row_id: int, now: datetime) -> str | None:
    """Apply one stored event; None when another worker has it or it is done."""
    async with uow_factory() as uow:
        event = await uow.payment_events.claim_unprocessed(event_row_id)
        if event is None:
            return None
        outcome = await apply_event(uow, event, now)
        event.processed_at = now
        event.next_attempt_at = None
        await uow.commit()
    return outcome


def note_failure(event: PaymentEventRow, now: datetime, error: str) -> bool:
    """Count a failed attempt and schedule the next; True when it has failed for so long
    (24 hours) that it goes to reconciliation instead, the last error kept."""
    event.attempts = (event.attempts or 0) + 1
    event.first_failed_at = event.first_failed_at or now
    event.last_error = error
    event.next_attempt_at = next_attempt(event.attempts, event.first_failed_at, now)
    if event.next_attempt_at is not None:
        return False
    _settle(event, Action.RECONCILE.value, "processing_failed")
    event.processed_at = now
    return True


def _first_failure(exc: Exception, now: datetime) -> dict[str, Any]:
    return {
        "attempts": 1,
        "first_failed_at": now,
        "next_attempt_at": next_attempt(1, now, now),
        "last_error": describe(exc),
    }


def _log_failure(exc: Exception, message: str) -> None:
    if is_transient(exc):  # the database's state, not a bug: no stack trace needed
        log.warning("%s (%s)", message, describe(exc))
    else:
        log.exception(message)


async def apply_event(uow: UnitOfWork, event: PaymentEventRow, now: datetime) -> str:
    """Decide what the event does to its (locked) order and do it; the outcome."""
    if event.kind not in set(PaymentEventKind):
        # Verified but not about money we track (or unreadable): kept, shown to staff.
        return _settle(event, "reconcile" if event.kind == "unreadable" else "ignored", event.kind)
    order = await _order(uow, event.order_ref)
    event.order_id = order.id if order else None
    decision = decide(_state(order), _domain_event(event))
    if order is None or decision.action is Action.RECONCILE:
        return _settle(event, Action.RECONCILE.value, decision.reason)
    if decision.action is Action.FULFIL:
        mailboxes = await lock_mailboxes(uow, order)
        if not still_renewable(mailboxes, now):
            # The grace ended before the money came: nothing to renew any more.
            await close_order(uow, order, OrderStatus.EXPIRED, now)
            return _settle(event, Action.RECONCILE.value, "order_closed")
        await fulfil(uow, order, now, paid=True, mailboxes=mailboxes)
        await _apply_waiting_refunds(uow, order)
    elif decision.action is Action.RECORD_PAYMENT:
        order.paid_at = now
        await _apply_waiting_refunds(uow, order)
    elif decision.action is Action.RECORD_REFUND:
        _refund(order, event)
    return _settle(event, decision.action.value, decision.reason)


async def _apply_waiting_refunds(uow: UnitOfWork, order: OrderRow) -> None:
    """Refunds that arrived before the payment, decided now that the order is paid."""
    for refund in await uow.payment_events.waiting_for_payment(order.id):
        decision = decide(_state(order), _domain_event(refund))
        if decision.action is Action.RECORD_REFUND:
            _refund(order, refund)
        _settle(refund, decision.action.value, decision.reason)


def _as_stored(row_id: int, values: dict[str, Any]) -> PaymentEventRow:
    """The row just inserted, attached to the session without reading it back."""
    row = PaymentEventRow(
        id=row_id, order_id=None, processed_at=None, outcome=None, reason=None,
        resolved_at=None, attempts=0, first_failed_at=None, next_attempt_at=None,
        last_error=None, **values,
    )  # fmt: skip
    make_transient_to_detached(row)
    return row


def _refund(order: OrderRow, event: PaymentEventRow) -> None:
    assert event.amount_cents is not None  # decide() reconciles the others
    if _cumulative(event):
        order.refunded_cents = max(order.refunded_cents, event.amount_cents)
    else:
        order.refunded_cents += event.amount_cents
    if order.refunded_cents >= order.payable_cents:
        order.status = OrderStatus.REFUNDED.value


def _settle(event: PaymentEventRow, outcome: str, reason: str | None) -> str:
    event.outcome = outcome
    event.reason = reason
    return outcome


async def _order(uow: UnitOfWork, ref: str | None) -> OrderRow | None:
    """The order an event names, by id or by human number (bank transfers), locked."""
    if not ref:
        return None
    seq = sequence_of(ref)
    if seq is not None:
        return await uow.orders.by_seq(seq, for_update=True)
    return await uow.orders.get(ref, for_update=True)


def _state(order: OrderRow | None) -> OrderPaymentState | None:
    if order is None:
        return None
    return OrderPaymentState(
        OrderStatus(order.status),
        order.payable_cents,
        order.currency,
        order.paid_at is not None,
        order.refunded_cents,
    )


def _domain_event(event: PaymentEventRow) -> PaymentEvent:
    return PaymentEvent(
        event.provider,
        event.event_id,
        PaymentEventKind(event.kind),
        event.order_ref,
        event.amount_cents,
        event.currency,
        event.occurred_at,
        cumulative=_cumulative(event),
    )


def _cumulative(event: PaymentEventRow) -> bool:
    # Stripe's charge.refunded reports the charge's refunded total, not this refund.
    return event.provider == "stripe" and event.kind == PaymentEventKind.REFUNDED.value
