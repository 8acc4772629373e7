"""Scheduled plan changes: a paid downgrade waiting for its day, and applying it then.

One row per mailbox (the newest paid order's change replaces an older one). The sweep
claims due rows with FOR UPDATE SKIP LOCKED on the change AND its mailbox, in one
statement that never waits: of two workers, one takes each change, and neither
deadlocks with a payment that holds the mailbox's lock (it is skipped until the next
pass). Applying deletes the row in the same transaction, so a change is applied once.
SQLite ignores the lock clause (its single worker).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.mailbox_repository import set_plan_and_space
from app.db.models import MailboxRow, ScheduledPlanChangeRow
from app.domain.plan_change import ScheduledChange

_CHANGE_COLUMNS = (
    ScheduledPlanChangeRow.mailbox_id,
    ScheduledPlanChangeRow.order_id,
    ScheduledPlanChangeRow.effective_on,
    ScheduledPlanChangeRow.plan_code,
    ScheduledPlanChangeRow.extra_mailbox_gb,
    ScheduledPlanChangeRow.extra_archive_gb,
    ScheduledPlanChangeRow.deletes_archive,
)


def _change(row: Any) -> ScheduledChange:
    return ScheduledChange(
        mailbox_id=row.mailbox_id,
        order_id=row.order_id,
        effective_on=row.effective_on,
        plan_code=row.plan_code,
        extra_mailbox_gb=row.extra_mailbox_gb,
        extra_archive_gb=row.extra_archive_gb,
        deletes_archive=bool(row.deletes_archive),
    )


class PlanChangeRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def schedule(self, changes: Sequence[ScheduledChange], now: datetime) -> None:
        """Store each change, replacing what its mailbox had scheduled."""
        if not changes:
            return
        table = ScheduledPlanChangeRow.__table__
        dialect = postgresql if self._session.get_bind().dialect.name == "postgresql" else sqlite
        insert = dialect.insert(table)
        replaced = {
            name: insert.excluded[name]
            for name in (
                "order_id",
                "effective_on",
                "plan_code",
                "extra_mailbox_gb",
                "extra_archive_gb",
                "deletes_archive",
                "scheduled_at",
            )
        }
        stmt = insert.on_conflict_do_update(index_elements=["mailbox_id"], set_=replaced)
        await self._session.execute(
            stmt,
            [
                {
                    "mailbox_id": c.mailbox_id,
                    "order_id": c.order_id,
                    "effective_on": c.effective_on,
                    "plan_code": c.plan_code,
                    "extra_mailbox_gb": c.extra_mailbox_gb,
                    "extra_archive_gb": c.extra_archive_gb,
                    "deletes_archive": c.deletes_archive,
                    "scheduled_at": now,
                }
                for c in changes
            ],
        )

    async def cancel(self, mailbox_ids: Sequence[str]) -> None:
        """Drop what these mailboxes had scheduled: a newer paid order decided instead."""
        if mailbox_ids:
            await self._session.execute(
                delete(ScheduledPlanChangeRow).where(
                    ScheduledPlanChangeRow.mailbox_id.in_(mailbox_ids)
                )
            )

    async def of(self, mailbox_ids: Sequence[str]) -> dict[str, ScheduledChange]:
        """The scheduled change of each of these mailboxes that has one."""
        if not mailbox_ids:
            return {}
        rows = await self._session.execute(
            select(*_CHANGE_COLUMNS).where(ScheduledPlanChangeRow.mailbox_id.in_(mailbox_ids))
        )
        return {row.mailbox_id: _change(row) for row in rows.all()}

    async def claim_due(self, today: date, limit: int) -> list[ScheduledChange]:
        """Up to `limit` changes whose day has come, locked with their mailboxes; those
        another transaction holds are skipped (taken on a later pass)."""
        stmt = (
            select(*_CHANGE_COLUMNS)
            .join(MailboxRow, MailboxRow.id == ScheduledPlanChangeRow.mailbox_id)
            .where(ScheduledPlanChangeRow.effective_on <= today)
            .order_by(ScheduledPlanChangeRow.effective_on, ScheduledPlanChangeRow.mailbox_id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return [_change(row) for row in (await self._session.execute(stmt)).all()]

    async def apply(self, change: ScheduledChange, now: datetime) -> bool:
        """Make the (claimed) change the mailbox's plan and space, and drop it; False when
        it was no longer scheduled (applied or replaced meanwhile)."""
        dropped = await self._session.execute(
            delete(ScheduledPlanChangeRow).where(
                ScheduledPlanChangeRow.mailbox_id == change.mailbox_id,
                ScheduledPlanChangeRow.order_id == change.order_id,
                ScheduledPlanChangeRow.effective_on == change.effective_on,
            )
        )
        if not dropped.rowcount:  # type: ignore[attr-defined]
            return False
        await set_plan_and_space(self._session, change, now)
        return True
