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

from app.domain.order_aggregate import Order
from app.domain.order_items import MailboxChange
from app.services.holder_on_file import record_order_holder
from app.services.partner_events import notify_partner
from app.services.unit_of_work import UnitOfWorkProtocol

MAIL_PLATFORM = "mail_platform"


async def fulfil(
    uow: UnitOfWorkProtocol, order: Order, changes: Sequence[MailboxChange], now: datetime
) -> None:
    """Carry out a fulfilment the order has just decided (its lock and its mailboxes'
    held): the mailboxes change, the platform is told, the holds are released."""
    await uow.mailboxes.apply_renewals(changes, now)
    await uow.plan_changes.cancel([c.mailbox_id for c in changes if c.scheduled is None])
    await uow.plan_changes.schedule([c.scheduled for c in changes if c.scheduled], now)
    for change in changes:
        await uow.outbox.add(
            MAIL_PLATFORM, f"renewal:{order.id}:{change.mailbox_id}", _message(order, change), now
        )
    await record_order_holder(uow, order, now)
    await uow.orders.release_mailboxes(order.id)
    for change in changes:
        if change.partner_id is not None:  # whoever ordered it, its partner is told
            await notify_partner(
                uow,
                change.partner_id,
                "renewal.completed",
                f"{order.id}:{change.mailbox_id}",
                _renewal_completed(order, change),
                now,
            )


def _renewal_completed(order: Order, change: MailboxChange) -> dict[str, Any]:
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
