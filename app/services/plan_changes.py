"""The plan-change sweep: a paid downgrade takes effect on its day.

domain.md "When a plan change takes effect": the customer keeps what was paid for
until the expiry; the day after it, the mailbox gets the plan and space the order
bought, its archive is deleted (if the customer acknowledged that), and the mail
platform is told then, through the outbox (action PLAN_CHANGE). Safe with N workers:
each change is claimed with its mailbox under FOR UPDATE SKIP LOCKED and deleted in
the same transaction as it is applied, so it is applied, and the platform told, once.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from app.adapters.mail_platform import PLAN_CHANGE
from app.domain.calendar import italian_date
from app.domain.plan_change import ScheduledChange
from app.services.fulfilment import MAIL_PLATFORM
from app.services.unit_of_work import UowFactory

if TYPE_CHECKING:  # sweeps.py lists this module's sweep
    from app.services.sweeps import SweepContext

BATCH = 100  # changes per transaction: a long backlog doesn't hold locks for long


async def sweep(context: SweepContext) -> int:
    """The worker's entry (app/services/sweeps.py SWEEPS)."""
    return await apply_due_plan_changes(context.uow_factory, context.now)


async def apply_due_plan_changes(uow_factory: UowFactory, now: datetime, batch: int = BATCH) -> int:
    """Apply every scheduled change whose day has come by `now`; how many were applied."""
    today = italian_date(now)
    applied = 0
    while True:
        async with uow_factory() as uow:
            due = await uow.plan_changes.claim_due(today, batch)
            for change in due:
                mailbox = await uow.mailboxes.get(change.mailbox_id)
                if mailbox is None or not await uow.plan_changes.apply(change, now):
                    continue
                await uow.outbox.add(
                    MAIL_PLATFORM,
                    f"plan_change:{change.order_id}:{change.mailbox_id}",
                    _message(change, mailbox.address),
                    now,
                )
                applied += 1
            await uow.commit()
        if len(due) < batch:
            return applied


def _message(change: ScheduledChange, address: str) -> dict[str, Any]:
    return {
        "action": PLAN_CHANGE,
        "order_id": change.order_id,
        "mailbox_id": change.mailbox_id,
        "address": address,
        "plan": change.plan_code,
        "extra_mailbox_gb": change.extra_mailbox_gb,
        "extra_archive_gb": change.extra_archive_gb,
        "delete_archive": change.deletes_archive,
        "effective_on": change.effective_on.isoformat(),
    }
