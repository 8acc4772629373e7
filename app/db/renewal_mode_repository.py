"""Partners' renewal modes, and the tacit renewals due on a day."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

from sqlalchemy import and_, exists, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.dialect import insert_or_ignore
from app.db.models import MailboxMilestoneRow, MailboxRow, PartnerRenewalModeRow
from app.domain.renewal_mode import (
    TACIT_LEAD_DAYS,
    TACIT_RENEWED,
    RenewalMode,
    RenewalModeKind,
    attempt_milestone,
)


class RenewalModeRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def of(self, partner_id: str, mailbox_ids: Sequence[str]) -> dict[str, RenewalMode]:
        """The modes `partner_id` set for these mailboxes (absent: never set, or set by
        the partner that managed the mailbox before)."""
        rows = await self._session.scalars(
            select(PartnerRenewalModeRow).where(
                PartnerRenewalModeRow.mailbox_id.in_(mailbox_ids),
                PartnerRenewalModeRow.partner_id == partner_id,
            )
        )
        return {
            row.mailbox_id: RenewalMode(RenewalModeKind(row.mode), row.years, row.updated_at)
            for row in rows
        }

    async def put(self, mailbox_id: str, partner_id: str, mode: RenewalMode) -> None:
        """Record the mode (insert, or replace whatever was set, by whichever partner)."""
        values = {
            "partner_id": partner_id,
            "mode": mode.mode.value,
            "years": mode.years,
            "updated_at": mode.updated_at,
        }
        stmt = insert_or_ignore(self._session, PartnerRenewalModeRow.__table__)  # type: ignore[arg-type]
        inserted = await self._session.execute(stmt, {"mailbox_id": mailbox_id, **values})
        if not inserted.rowcount:  # type: ignore[attr-defined]
            await self._session.execute(
                update(PartnerRenewalModeRow)
                .where(PartnerRenewalModeRow.mailbox_id == mailbox_id)
                .values(values)
            )

    async def due_tacit(self, today: date, limit: int) -> list[str]:
        """Mailboxes in tacit mode (set by the partner that manages them) whose expiry is
        within the next 7 days, neither renewed tacitly for that expiry nor tried today;
        soonest expiry first."""
        milestone = MailboxMilestoneRow
        done = exists().where(
            milestone.mailbox_id == MailboxRow.id,
            milestone.expires_on == MailboxRow.expires_on,
            milestone.milestone.in_((TACIT_RENEWED, attempt_milestone(today))),
        )
        stmt = (
            select(MailboxRow.id)
            .join(
                PartnerRenewalModeRow,
                and_(
                    PartnerRenewalModeRow.mailbox_id == MailboxRow.id,
                    PartnerRenewalModeRow.partner_id == MailboxRow.partner_id,
                ),
            )
            .where(
                PartnerRenewalModeRow.mode == RenewalModeKind.TACIT.value,
                MailboxRow.expires_on >= today,
                MailboxRow.expires_on <= today + timedelta(days=TACIT_LEAD_DAYS),
                MailboxRow.status.in_(("ACTIVE", "EXPIRED")),
                ~done,
            )
            .order_by(MailboxRow.expires_on, MailboxRow.id)
            .limit(limit)
        )
        return list(await self._session.scalars(stmt))
