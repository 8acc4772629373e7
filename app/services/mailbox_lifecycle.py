"""The mailbox lifecycle sweep: reminders, and the deletion on day 91 after expiry.

For each mailbox without automatic renewal whose milestone is due (app/domain/lifecycle.py)
one transaction locks the mailbox, claims the milestone (uow.milestones.claim) and queues
what it means: the reminder email to the holder, a `mailbox.expiring` event to the
partner that manages it; at deletion, the mail platform's DELETION, the holder's email,
`mailbox.deleted` to the partner and the mirror's status DELETED. Claim and messages
commit together, so of N workers sweeping at once exactly one takes each milestone, and
a crash before the commit leaves it to the next pass.

Who is written to: the holder, at the reference address on file (the mailbox's own
record, else its account's), else the account's address; in the account's language. A
partner's customers are their partner's to keep: the partner is told by a webhook, and
the holder still gets the email (the mailbox, and its deletion, are theirs).
"""

from __future__ import annotations

import logging
from datetime import date, datetime
from typing import Any

from app.adapters.mail_platform import DELETION
from app.domain import lifecycle
from app.domain.calendar import italian_date
from app.domain.lifecycle import LifecycleMilestone
from app.domain.mailbox import Mailbox
from app.services.confirmation_email import EMAIL
from app.services.fulfilment import MAIL_PLATFORM
from app.services.lifecycle_email import lifecycle_email
from app.services.partner_events import notify_partner
from app.services.unit_of_work import UnitOfWorkProtocol, UowFactory

log = logging.getLogger("app.lifecycle")
BATCH = 200


async def sweep_mailbox_lifecycle(
    uow_factory: UowFactory, now: datetime, batch: int = BATCH
) -> int:
    """Take every lifecycle milestone due at `now`; returns how many were taken.

    Reads the due mailboxes a page at a time in (expiry, id) order and takes each in its
    own transaction: one that fails (or that another worker holds) is skipped and comes
    back on the next pass, without holding back the others.
    """
    today = italian_date(now)
    windows = lifecycle.windows(today)
    after: tuple[date, str] | None = None
    taken = 0
    while True:
        async with uow_factory() as uow:
            page = await uow.lifecycle.due(windows, after, batch)
        for mailbox in page:
            try:
                taken += await take_milestone(uow_factory(), mailbox.id, now)
            except Exception:
                log.exception("lifecycle step failed", extra={"mailbox_id": mailbox.id})
        if len(page) < batch:
            return taken
        after = (page[-1].expires_on, page[-1].id)


async def take_milestone(uow: UnitOfWorkProtocol, mailbox_id: str, now: datetime) -> int:
    """Take the milestone due for one mailbox, if any and if nobody else is: 1 if taken."""
    today = italian_date(now)
    async with uow:
        mailbox = await uow.lifecycle.lock_unless_busy(mailbox_id)
        if mailbox is None or not lifecycle.takes_part(mailbox):
            return 0
        pending = mailbox_id in await uow.mailboxes.pending_orders([mailbox_id])
        reached = await uow.milestones.reached(mailbox_id, mailbox.expires_on)
        milestone = lifecycle.due_milestone(
            mailbox.expires_on, today, reached, order_pending=pending
        )
        if milestone is None:
            return 0
        if not await uow.milestones.claim(mailbox_id, mailbox.expires_on, milestone.name, now):
            return 0
        await _email_holder(uow, mailbox, milestone, today, pending, now)
        if milestone.is_deletion:
            await _delete(uow, mailbox, today, now)
        elif mailbox.partner_id is not None:
            await notify_partner(
                uow,
                mailbox.partner_id,
                "mailbox.expiring",
                f"{mailbox.id}:{mailbox.expires_on.isoformat()}:{milestone.name}",
                {
                    **_about(mailbox),
                    "milestone": milestone.name,
                    "days_to_expiry": (mailbox.expires_on - today).days,
                },
                now,
            )
        await uow.commit()
    log.info(
        "lifecycle milestone taken",
        extra={"mailbox_id": mailbox_id, "milestone": milestone.name},
    )
    return 1


async def _email_holder(
    uow: UnitOfWorkProtocol,
    mailbox: Mailbox,
    milestone: LifecycleMilestone,
    today: date,
    pending: bool,
    now: datetime,
) -> None:
    account = await uow.accounts.get(mailbox.account_id)
    on_file = (await uow.holders.on_file([mailbox.id])).get(mailbox.id)
    if on_file is not None:
        name, to = on_file.record.holder.name, on_file.record.holder.email
    elif account is not None:
        name, to = account.name, account.email
    else:  # the account is required by a foreign key: only a broken mirror gets here
        log.warning("lifecycle email without a recipient", extra={"mailbox_id": mailbox.id})
        return
    message = lifecycle_email(
        language=account.language if account is not None else "it",
        milestone=milestone,
        mailbox_id=mailbox.id,
        address=mailbox.address,
        expires_on=mailbox.expires_on,
        today=today,
        holder_name=name,
        to=to,
        order_pending=pending,
    )
    key = f"lifecycle:{mailbox.id}:{mailbox.expires_on.isoformat()}:{milestone.name}"
    await uow.outbox.add(EMAIL, key, message, now)


async def _delete(uow: UnitOfWorkProtocol, mailbox: Mailbox, today: date, now: datetime) -> None:
    """Day 91: the platform deletes the mailbox, the mirror says DELETED, the partner hears."""
    expiry = mailbox.expires_on.isoformat()
    await uow.outbox.add(
        MAIL_PLATFORM,
        f"deletion:{mailbox.id}:{expiry}",
        {**_about(mailbox), "action": DELETION, "deleted_on": today.isoformat()},
        now,
    )
    await uow.lifecycle.mark_deleted(mailbox.id, now)
    if mailbox.partner_id is not None:
        await notify_partner(
            uow,
            mailbox.partner_id,
            "mailbox.deleted",
            f"{mailbox.id}:{expiry}",
            {**_about(mailbox), "deleted_on": today.isoformat()},
            now,
        )


def _about(mailbox: Mailbox) -> dict[str, Any]:
    return {
        "mailbox_id": mailbox.id,
        "address": mailbox.address,
        "expires_on": mailbox.expires_on.isoformat(),
    }
