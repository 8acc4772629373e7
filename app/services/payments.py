"""Payment registration: store every verified event once, then apply it exactly once.

Receiving stores the event and applies it in one transaction, committed before the
2xx: the order is locked, the order decides (Order.settle), the fulfilment happens, the
event is marked processed — all or nothing. Should applying fail, the event is stored
alone with the failure noted, and the worker applies it later (see payment_retries).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from app.db.payment_event_repository import stored_as_added
from app.db.pg_payment_in_one_write import PaymentFacts, PaymentInOneWrite
from app.db.transient import describe, is_transient
from app.domain.fulfilment_steps import Renewal
from app.domain.order_aggregate import Order
from app.domain.payment_registration import Action, decide
from app.domain.payment_retry import next_attempt
from app.domain.stored_payment_event import StoredPaymentEvent, is_tracked
from app.services.errors import PaymentEventNotStored
from app.services.fulfilment import fulfil_but_renewal, lock_for_fulfilment, renewal_of
from app.services.holder_on_file import holder_records_to_replace
from app.services.orders import closed
from app.services.saved_payment_methods import keep_saved_method
from app.services.unit_of_work import UnitOfWorkProtocol, UowFactory

log = logging.getLogger("app.payments")
OneWriteFactory = Callable[[], AbstractAsyncContextManager[PaymentInOneWrite]]


@dataclass(frozen=True, slots=True)
class Receipt:
    duplicate: bool
    outcome: str | None  # what processing did (None: a duplicate, or left to the worker)


async def receive_event(
    uow_factory: UowFactory,
    provider: str,
    event: dict[str, Any],
    now: datetime,
    in_one_write: OneWriteFactory | None = None,
) -> Receipt:
    """Store and apply an event in one transaction, committed before the 2xx.

    If applying fails, the event is still stored, alone, for the worker to retry: a
    verified event is never lost, and its effects are never half-applied. If even that
    can't be stored, PaymentEventNotStored: the provider must deliver it again.

    A payment that simply fulfils its order goes `in_one_write` where there is one
    (PostgreSQL): two round trips instead of four. Anything else, or anything that moved
    between the two, takes the transaction below: both apply an event alike.
    """
    values = {**event, "provider": provider, "received_at": now}
    if in_one_write is not None:
        try:
            receipt = await _fulfil_in_one_write(in_one_write, values, now)
        except TimeoutError:
            raise  # the database is not answering: the transaction would wait as long again
        except Exception as exc:  # nothing was written: the transaction stores it, at least
            _log_failure(exc, "applying a payment in one write failed: applying it again")
            receipt = None
        if receipt is not None:
            return receipt
    try:
        async with uow_factory() as uow:
            # One round trip: the event stored (unless a duplicate) and its order locked.
            stored, order = await uow.payment_events.add_locking_order(
                values, _order_named(values["kind"], values["order_ref"])
            )
            if stored is None:
                return Receipt(duplicate=True, outcome=None)
            outcome = await apply_event(uow, stored, order, now)
            await uow.commit()
            return Receipt(duplicate=False, outcome=outcome)
    except TimeoutError:
        raise  # the database is not answering: storing the event alone would wait as long again
    except Exception as exc:
        _log_failure(exc, "applying a received payment event failed: stored for the worker")
        failure = exc
    try:
        async with uow_factory() as uow:
            kept = await uow.payment_events.add({**values, **_first_failure(failure, now)})
            await uow.commit()
    except Exception as exc:
        _log_failure(exc, "a verified payment event could not be stored: the provider retries")
        raise PaymentEventNotStored from exc
    return Receipt(duplicate=kept is None, outcome=None)


async def _fulfil_in_one_write(
    in_one_write: OneWriteFactory, values: dict[str, Any], now: datetime
) -> Receipt | None:
    """receive_event for a payment that fulfils its order and writes nothing else (no
    refund waiting, no plan change to schedule, no holder record or saved card to
    keep), read in one round trip and written in one (app/db/pg_payment_in_one_write.py).
    None: not such a payment, or the write gave way; nothing was written.

    An order this process placed is not read for: its payment is one round trip, the
    write (app/db/placed_order_memory.py). Should that write give way, or the remembered
    order refuse the payment, it is read for and decided on what the database holds."""
    reference = _order_named(values["kind"], values["order_ref"])
    if reference is None:
        return None
    async with in_one_write() as one_write:
        recalled = one_write.recall(reference)
        if recalled is not None:
            receipt = await _fulfil(one_write, recalled, values, now)
            one_write.recalled(written=receipt is not None)
            if receipt is not None:
                return receipt
        facts = await one_write.read(values, reference)
        if facts.duplicate:
            return Receipt(duplicate=True, outcome=None)
        return await _fulfil(one_write, facts, values, now)


async def _fulfil(
    one_write: PaymentInOneWrite, facts: PaymentFacts, values: dict[str, Any], now: datetime
) -> Receipt | None:
    """The payment `facts` describe, decided and written in one statement; None: not a
    payment that only fulfils its order, or the write gave way; nothing was written."""
    order, locks = facts.order, facts.locks
    if order is None or facts.order_version is None or locks.refunds_may_wait:
        return None
    event = stored_as_added(0, values)  # as it will be stored (its id comes then)
    if order.decide(event.event()).action is not Action.FULFIL:
        return None
    if order.automatic_renewal and event.provider == "stripe":
        return None  # a card to keep for the renewals (keep_saved_method)
    # Recalled, the holders on file weren't read: the write checks them instead.
    if not facts.recalled:
        mailbox_writes, account_writes = holder_records_to_replace(order, locks.owners or {})
        if mailbox_writes or account_writes:
            return None
    settlement = order.settle(event.event(), now, locks.mailboxes)
    changes = settlement.changes
    if not settlement.fulfilled or not changes or any(c.scheduled for c in changes):
        return None
    renewal = renewal_of(order, changes, now)
    event.order_id = order.id
    outcome = event.settle(settlement.decision.action.value, settlement.decision.reason)
    event.processed(now)
    written = await one_write.write(
        values,
        event,
        order,
        facts.order_version,
        renewal,
        facts.versions,
        check_holders=facts.recalled and not order.holder_from_file,
    )
    return None if written is None else Receipt(duplicate=False, outcome=outcome)


async def process_event(uow_factory: UowFactory, event_row_id: int, now: datetime) -> str | None:
    """Apply one stored event; None when another worker has it or it is done."""
    async with uow_factory() as uow:
        event = await uow.payment_events.claim_unprocessed(event_row_id)
        if event is None:
            return None
        outcome = await apply_event(uow, event, await locked_order(uow, event), now)
        await uow.commit()
    return outcome


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


async def locked_order(uow: UnitOfWorkProtocol, event: StoredPaymentEvent) -> Order | None:
    """The order a stored event names, locked until the commit (None: it names none we
    know, or it isn't about money we track)."""
    reference = _order_named(event.kind, event.order_ref)
    return await uow.orders.by_number(reference, lock=True) if reference else None


def _order_named(kind: str, order_ref: str | None) -> str | None:
    """The order whose lock applying an event takes: only a tracked event's has one."""
    return order_ref if order_ref and is_tracked(kind) else None


async def apply_event(
    uow: UnitOfWorkProtocol, event: StoredPaymentEvent, order: Order | None, now: datetime
) -> str:
    """Apply the event to its order (locked by the caller; None: it names none we know)
    and record it processed, with what it changed in the order and the renewal it
    carried out, in one write: the outcome."""
    outcome, changed, renewal = await _settle(uow, event, order, now)
    event.processed(now)
    await uow.payment_events.save(event, with_order=changed, renewal=renewal)
    return outcome


async def _settle(
    uow: UnitOfWorkProtocol, event: StoredPaymentEvent, order: Order | None, now: datetime
) -> tuple[str, Order | None, Renewal | None]:
    """Decide what the event does to its order and do it: the outcome, the order to save
    with the event (None: no order, or one already saved) and the renewal to write with
    it (None: nothing fulfilled)."""
    if not event.tracked:
        # Verified but not about money we track (or unreadable): kept, shown to staff.
        action = "reconcile" if event.kind == "unreadable" else "ignored"
        return event.settle(action, event.kind), None, None
    event.order_id = order.id if order else None
    if order is None:
        return event.settle(Action.RECONCILE.value, _unknown_order_reason(event)), None, None
    locks = None
    if order.decide(event.event()).action is Action.FULFIL:
        locks = await lock_for_fulfilment(uow, order)
    settlement = order.settle(event.event(), now, locks.mailboxes if locks else {})
    renewal = None
    if settlement.fulfilled:
        assert locks is not None  # only a FULFIL decision fulfils
        renewal = await fulfil_but_renewal(uow, order, settlement.changes, now, locks)
        await keep_saved_method(uow, order, event, locks.mailboxes, now)
    if settlement.paid_now and (locks is None or locks.refunds_may_wait):
        await _settle_waiting_refunds(uow, order, now)
    outcome = event.settle(settlement.decision.action.value, settlement.decision.reason)
    if settlement.expired:  # the grace ended before the money came: nothing left to renew
        await closed(uow, order)
        return outcome, None, None
    return outcome, order, renewal


def _unknown_order_reason(event: StoredPaymentEvent) -> str | None:
    """Without an order, decide() still says why: an amount out of range comes first."""
    return decide(None, event.event()).reason


async def _settle_waiting_refunds(uow: UnitOfWorkProtocol, order: Order, now: datetime) -> None:
    """Refunds that arrived before the payment, decided now that the order is paid."""
    for refund in await uow.payment_events.waiting_for_payment(order.id):
        settlement = order.settle(refund.event(), now, {})
        refund.settle(settlement.decision.action.value, settlement.decision.reason)
        await uow.payment_events.save(refund)
