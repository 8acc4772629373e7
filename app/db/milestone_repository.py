"""Mailbox milestones: claim a time-driven step once per mailbox and expiry date.

The claim is an INSERT … ON CONFLICT DO NOTHING in the transaction that does the step
(queues the email, creates the order…): of two workers sweeping at once, one inserts
and does it; the other finds the row and does nothing. A rollback takes the claim back.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.dialect import insert_or_ignore
from app.db.models import MailboxMilestoneRow


class MilestoneRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def claim(self, mailbox_id: str, expires_on: date, milestone: str, now: datetime) -> bool:
        """True when this transaction is the first to reach `milestone` for that expiry."""
        stmt = insert_or_ignore(self._session, MailboxMilestoneRow.__table__).returning(  # type: ignore[arg-type]
            MailboxMilestoneRow.mailbox_id
        )
        values = {
            "mailbox_id": mailbox_id,
            "expires_on": expires_on,
            "milestone": milestone,
            "reached_at": now,
        }
        return (await self._session.execute(stmt, values)).first() is not None

    async def reached(self, mailbox_id: str, expires_on: date) -> dict[str, datetime]:
        """The milestones reached for that expiry, and when."""
        rows = await self._session.execute(
            select(MailboxMilestoneRow.milestone, MailboxMilestoneRow.reached_at).where(
                MailboxMilestoneRow.mailbox_id == mailbox_id,
                MailboxMilestoneRow.expires_on == expires_on,
            )
        )
        return {str(milestone): at for milestone, at in rows.all()}

    async def count(self, milestone: str) -> int:
        found = await self._session.scalar(
            select(func.count())
            .select_from(MailboxMilestoneRow)
            .where(MailboxMilestoneRow.milestone == milestone)
        )
        return int(found or 0)
