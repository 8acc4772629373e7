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
from app.domain.account import Account
from app.domain.calendar import italian_date
from app.domain.holder_record import HolderOnFile
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

    Reads the due mailboxes a page at a time in (expiry, id) order and takes a page's
    steps in one transaction (its rows locked with SKIP LOCKED: a second worker takes
    the next page meanwhile). A page that fails is taken again one mailbox at a time,
    so one bad mailbox can't hold back the others; it comes back on the next pass.
    """
    today = italian_date(now)
    windows = lifecycle.windows(today)
    after: tuple[date, str] | None = None
    taken = 0
    while True:
        async with uow_factory() as uow:
            page = await uow.lifecycle.due(windows, after, batch)
        ids = [mailbox.id for mailbox in page]
        try:
            taken += await take_milestones(uow_factory(), ids, now)
        except Exception:
            log.exception("lifecycle page failed: taken one mailbox at a time")
            taken += await _one_at_a_time(uow_factory, ids, now)
        if len(page) < batch:
            return taken
        after = (page[-1].expires_on, page[-1].id)


async def _one_at_a_time(uow_factory: UowFactory, ids: list[str], now: datetime) -> int:
    taken = 0
    for mailbox_id in ids:
        try:
            taken += await take_milestones(uow_factory(), [mailbox_id], now)
        except Exception:
            log.exception("lifecycle step failed", extra={"mailbox_id": mailbox_id})
    return taken


async def take_milestones(uow: UnitOfWorkProtocol, ids: list[str], now: datetime) -> int:
    """In one transaction, take the milestone due for each of `ids` that nobody else is
    taking; returns how many were taken."""
    today = italian_date(now)
    taken = 0
    if not ids:
        return 0
    async with uow:
        locked = await uow.lifecycle.lock_unless_busy(ids)
        pending = await uow.mailboxes.pending_orders(list(locked))
        on_file = await uow.holders.on_file(list(locked))
        accounts: dict[str, Account | None] = {}
        for mailbox in locked.values():
            if not lifecycle.takes_part(mailbox):
                continue
            milestone = lifecycle.due_milestone(
                mailbox.expires_on, today, order_pending=mailbox.id in pending
            )
            if milestone is None:
                continue
            if not await uow.milestones.claim(mailbox.id, mailbox.expires_on, milestone.name, now):
                continue  # taken already, by this worker earlier or by another
            if mailbox.account_id not in accounts:
                accounts[mailbox.account_id] = await uow.accounts.get(mailbox.account_id)
            message = _holder_email(
                mailbox,
                milestone,
                today,
                mailbox.id in pending,
                accounts[mailbox.account_id],
                on_file.get(mailbox.id),
            )
            if message is not None:
                key = f"lifecycle:{mailbox.id}:{mailbox.expires_on.isoformat()}:{milestone.name}"
                await uow.outbox.add(EMAIL, key, message, now)
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
            taken += 1
        await uow.commit()
    if taken:
        log.info("lifecycle milestones taken", extra={"taken": taken})
    return taken


def _holder_email(
    mailbox: Mailbox,
    milestone: LifecycleMilestone,
    today: date,
    pending: bool,
    account: Account | None,
    on_file: HolderOnFile | None,
) -> dict[str, str] | None:
    """The holder's email, to the reference address on file, else the account's."""
    if on_file is not None:
        name, to = on_file.record.holder.name, on_file.record.holder.email
    elif account is not None:
        name, to = account.name, account.email
    else:  # the account is required by a foreign key: only a broken mirror gets here
        log.warning("lifecycle email without a recipient", extra={"mailbox_id": mailbox.id})
        return None
    return lifecycle_email(
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
