"""Fulfilment: the renewal itself, in the transaction that registers the payment.

The order decides what each mailbox becomes (Order.fulfil); this writes it: new expiry,
plan, extra space, archive deleted where acknowledged, automatic renewal on for
card/PayPal, mailbox back to ACTIVE; the mail platform is told through the outbox. The
holder data the order gave becomes the record on file. The partner that manages a
renewed mailbox is told (`renewal.completed`), whoever placed the order. A downgrade of
a mailbox not yet expired is stored for its day instead (app/services/plan_changes.py
applies it and tells the platform then); any other change replaces what the mailbox had
scheduled.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from app.domain.fulfilment_steps import FulfilmentLocks, Renewal
from app.domain.order_aggregate import Order
from app.domain.order_items import MailboxChange
from app.domain.outgoing_message import OutgoingMessage
from app.services.holder_on_file import record_order_holder
from app.services.partner_events import partner_event
from app.services.unit_of_work import UnitOfWorkProtocol

MAIL_PLATFORM = "mail_platform"


async def fulfil(
    uow: UnitOfWorkProtocol, order: Order, changes: Sequence[MailboxChange], now: datetime
) -> None:
    """Carry out a fulfilment the order has just decided (its lock and its mailboxes'
    held): the mailboxes change (what they had scheduled replaced), the holds are
    released, the platform is told."""
    renewal = renewal_of(order, changes, now)
    await uow.mailboxes.renew_for_order(order.id, renewal.changes, renewal.told, now)
    await uow.plan_changes.schedule([c.scheduled for c in changes if c.scheduled], now)
    await record_order_holder(uow, order, now)


async def lock_for_fulfilment(uow: UnitOfWorkProtocol, order: Order) -> FulfilmentLocks:
    """A payment's first step towards fulfilling the (locked) order: its mailboxes
    locked and, when the order gave a holder to record, their holders on file read (what
    record_order_holder compares it with)."""
    return await uow.mailboxes.lock_for_fulfilment(
        order.id, order.mailbox_ids, owners=not order.holder_from_file
    )


async def fulfil_but_renewal(
    uow: UnitOfWorkProtocol,
    order: Order,
    changes: Sequence[MailboxChange],
    now: datetime,
    locks: FulfilmentLocks,
) -> Renewal:
    """`fulfil` for a payment, after lock_for_fulfilment: everything but the renewal,
    which the caller writes with the payment event (PaymentEvents.save) in one write.
    Nothing here touches what the renewal writes, so the order of the two is free."""
    await uow.plan_changes.schedule([c.scheduled for c in changes if c.scheduled], now)
    await record_order_holder(uow, order, now, locks.owners)
    return renewal_of(order, changes, now)


def renewal_of(order: Order, changes: Sequence[MailboxChange], now: datetime) -> Renewal:
    """The mailboxes' changes, and what the platform and partners are told of them."""
    # The platform is told of every change, and the partner that manages a mailbox of
    # its renewal (whoever ordered it): queued in the same write as the renewal.
    told = [_platform_message(order, change) for change in changes]
    told += [
        _renewal_completed(order, change, change.partner_id, now)
        for change in changes
        if change.partner_id is not None
    ]
    return Renewal(order.id, tuple(changes), tuple(told), now)


def _renewal_completed(
    order: Order, change: MailboxChange, partner_id: str, now: datetime
) -> OutgoingMessage:
    key = f"{order.id}:{change.mailbox_id}"
    return partner_event(partner_id, "renewal.completed", key, _completed(order, change), now)


def _completed(order: Order, change: MailboxChange) -> dict[str, Any]:
    return {
        "mailbox_id": change.mailbox_id,
        "address": change.address,
        "order_id": order.id,
        "order_number": order.number,
        "payment_method": order.payment_method.value,
        "plan": change.plan_code,
        "extra_mailbox_gb": change.extra_mailbox_gb,
        "extra_archive_gb": change.extra_archive_gb,
        "previous_expiry": change.previous_expiry.isoformat(),
        "expires_on": change.expires_on.isoformat(),
    }


def _platform_message(order: Order, change: MailboxChange) -> OutgoingMessage:
    key = f"renewal:{order.id}:{change.mailbox_id}"
    return OutgoingMessage(MAIL_PLATFORM, key, _message(order, change))


def _message(order: Order, change: MailboxChange) -> dict[str, Any]:
    return {
        "order_id": order.id,
        "mailbox_id": change.mailbox_id,
        "address": change.address,
        "plan": change.plan_code,
        "extra_mailbox_gb": change.extra_mailbox_gb,
        "extra_archive_gb": change.extra_archive_gb,
        "previous_expiry": change.previous_expiry.isoformat(),
        "expires_on": change.expires_on.isoformat(),
        "delete_archive": change.deletes_archive,
        "auto_renewal": change.auto_renewal,
        "auto_renewal_years": change.auto_renewal_years,
    }
