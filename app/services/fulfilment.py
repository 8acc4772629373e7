"""Fulfilment: the renewal itself, in the transaction that registers the payment.

New expiry, plan, extra space, archive deleted where acknowledged, automatic renewal on
for card/PayPal, mailbox back to ACTIVE; the mail platform is told through the outbox.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from app.db.mappers import mailbox_from_row
from app.db.models import MailboxRow, OrderRow
from app.db.unit_of_work import UnitOfWork
from app.domain.calendar import add_years, italian_date
from app.domain.mailbox import MailboxStatus, effective_status
from app.domain.order import OrderStatus, PaymentMethod

MAIL_PLATFORM = "mail_platform"


async def mailboxes_still_renewable(uow: UnitOfWork, order: OrderRow, now: datetime) -> bool:
    """False when a mailbox of the order is past its grace (or suspended) by now."""
    today = italian_date(now)
    for item in _in_lock_order(order):
        row = await uow.session.get(MailboxRow, item["mailbox_id"], with_for_update=True)
        if row is not None and effective_status(mailbox_from_row(row), today) in (
            MailboxStatus.DELETED,
            MailboxStatus.SUSPENDED,
        ):
            return False
    return True


async def fulfil(uow: UnitOfWork, order: OrderRow, now: datetime, *, paid: bool) -> None:
    """Renew every mailbox of `order` (locked), once: the caller holds the order's lock."""
    method = PaymentMethod(order.payment_method)
    for item in _in_lock_order(order):
        mailbox = await uow.session.get(MailboxRow, item["mailbox_id"], with_for_update=True)
        if mailbox is None:  # the mirror vanished: the platform must still be told
            continue
        old_expiry = mailbox.expires_on
        # From the expiry as it is now, not as quoted: moved exactly once, never twice.
        mailbox.expires_on = add_years(old_expiry, order.years)
        mailbox.plan_code = item["target_plan"]
        mailbox.extra_mailbox_gb = item["extra_mailbox_gb"]
        mailbox.extra_archive_gb = item["extra_archive_gb"]
        if item["deletes_archive"]:
            mailbox.used_archive_mb = 0
            mailbox.extra_archive_gb = 0
        if method.turns_auto_renewal_on:
            mailbox.auto_renewal = True
            mailbox.auto_renewal_years = order.years
        mailbox.status = MailboxStatus.ACTIVE.value
        mailbox.updated_at = now
        await uow.outbox.add(
            MAIL_PLATFORM,
            f"renewal:{order.id}:{mailbox.id}",
            {
                "order_id": order.id,
                "mailbox_id": mailbox.id,
                "address": mailbox.address,
                "plan": mailbox.plan_code,
                "extra_mailbox_gb": mailbox.extra_mailbox_gb,
                "extra_archive_gb": mailbox.extra_archive_gb,
                "previous_expiry": old_expiry.isoformat(),
                "expires_on": mailbox.expires_on.isoformat(),
                "delete_archive": bool(item["deletes_archive"]),
                "auto_renewal": mailbox.auto_renewal,
                "auto_renewal_years": mailbox.auto_renewal_years,
            },
            now,
        )
    order.status = OrderStatus.FULFILLED.value
    order.fulfilled_at = now
    if paid:
        order.paid_at = now
    await uow.orders.release_mailboxes(order.id)


def _in_lock_order(order: OrderRow) -> list[dict[str, Any]]:
    # Mailboxes are always locked in id order: two orders can't deadlock on them.
    items: list[dict[str, Any]] = order.document["items"]
    return sorted(items, key=lambda item: str(item["mailbox_id"]))
