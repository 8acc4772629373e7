"""Fulfilment: the renewal itself, in the transaction that registers the payment.

New expiry, plan, extra space, archive deleted where acknowledged, automatic renewal on
for card/PayPal, mailbox back to ACTIVE; the mail platform is told through the outbox.
The holder data the order gave becomes the record on file.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from app.db.mappers import mailbox_from_row
from app.db.models import MailboxRow, OrderRow
from app.db.unit_of_work import UnitOfWork
from app.domain.calendar import add_years, italian_date
from app.domain.mailbox import MailboxStatus, effective_status
from app.domain.order import OrderStatus, PaymentMethod
from app.services.holder_on_file import record_order_holder

MAIL_PLATFORM = "mail_platform"


async def lock_mailboxes(uow: UnitOfWork, order: OrderRow) -> dict[str, MailboxRow]:
    """The order's mailboxes, locked in one query, in id order (no deadlock between orders)."""
    ids = sorted(str(item["mailbox_id"]) for item in order.document["items"])
    stmt = select(MailboxRow).where(MailboxRow.id.in_(ids)).order_by(MailboxRow.id)
    rows = await uow.session.scalars(stmt.with_for_update())
    return {row.id: row for row in rows.all()}


def still_renewable(mailboxes: dict[str, MailboxRow], now: datetime) -> bool:
    """False when a mailbox is past its grace (or suspended) by now."""
    today = italian_date(now)
    return all(
        effective_status(mailbox_from_row(row), today)
        not in (MailboxStatus.DELETED, MailboxStatus.SUSPENDED)
        for row in mailboxes.values()
    )


async def fulfil(
    uow: UnitOfWork,
    order: OrderRow,
    now: datetime,
    *,
    paid: bool,
    mailboxes: dict[str, MailboxRow] | None = None,
) -> None:
    """Renew every mailbox of `order`, once: the caller holds the order's lock, and may
    pass the mailboxes it already locked."""
    method = PaymentMethod(order.payment_method)
    locked = mailboxes if mailboxes is not None else await lock_mailboxes(uow, order)
    for item in order.document["items"]:
        mailbox = locked.get(item["mailbox_id"])
        if mailbox is None:  # the mirror vanished: nothing here to renew
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
    await record_order_holder(uow, order.id, order.document, now)
    order.status = OrderStatus.FULFILLED.value
    order.fulfilled_at = now
    if paid:
        order.paid_at = now
    await uow.orders.release_mailboxes(order.id)
