"""Storage for the mailbox lifecycle sweep: which mailboxes have a milestone due, the lock
that one step takes, the deletion in the mirror, and the log of what was sent.

The due query reads the expiry-date index (ix_mailboxes_expires_on_id) one range per
milestone and leaves out, by primary key, the milestones already reached: a sweep with
nothing to do reads nothing, whatever the number of mailboxes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.mappers import MAILBOX_COLUMNS, mailbox_from_row
from app.db.models import (
    MailboxMilestoneRow,
    MailboxRow,
    OutboxRow,
    PartnerRenewalModeRow,
    PendingRenewalRow,
)
from app.domain.lifecycle import MilestoneWindow
from app.domain.mailbox import Mailbox, MailboxStatus
from app.domain.renewal_mode import RenewalModeKind

IN_LIFECYCLE = (MailboxStatus.ACTIVE.value, MailboxStatus.EXPIRED.value)


@dataclass(frozen=True, slots=True)
class LoggedMessage:
    """An outbox message as the sandbox log shows it."""

    id: int
    kind: str
    payload: dict[str, Any]
    queued_at: datetime
    delivered_at: datetime | None
    attempts: int
    last_error: str | None


class LifecycleRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def due(
        self,
        windows: Sequence[MilestoneWindow],
        after: tuple[date, str] | None,
        limit: int,
    ) -> list[Mailbox]:
        """Mailboxes without automatic renewal, ACTIVE or EXPIRED, whose expiry date is in
        a milestone's window and which haven't reached it; ordered by (expiry, id) after
        `after`, at most `limit`."""
        stmt = select(*MAILBOX_COLUMNS).where(
            MailboxRow.status.in_(IN_LIFECYCLE),
            MailboxRow.auto_renewal.is_(False),
            or_(*(_due_in(window) for window in windows)),
        )
        if after is not None:
            stmt = stmt.where(
                or_(
                    MailboxRow.expires_on > after[0],
                    and_(MailboxRow.expires_on == after[0], MailboxRow.id > after[1]),
                )
            )
        stmt = stmt.order_by(MailboxRow.expires_on, MailboxRow.id).limit(limit)
        return [mailbox_from_row(row) for row in (await self._session.execute(stmt)).all()]

    async def lock_unless_busy(self, ids: Sequence[str]) -> dict[str, Mailbox]:
        """The mailboxes among `ids`, locked for this transaction, in id order; one that
        is gone or that another transaction holds is absent (another worker taking its
        step, or a renewal: the next sweep looks again). SQLite has no row locks: its
        single worker needs none."""
        stmt = (
            select(*MAILBOX_COLUMNS)
            .where(MailboxRow.id.in_(sorted(ids)))
            .order_by(MailboxRow.id)
            .with_for_update(skip_locked=True)
        )
        return {row.id: mailbox_from_row(row) for row in (await self._session.execute(stmt)).all()}

    async def mark_deleted(self, mailbox_id: str, now: datetime) -> None:
        await self._session.execute(
            update(MailboxRow)
            .where(MailboxRow.id == mailbox_id)
            .values(status=MailboxStatus.DELETED.value, updated_at=now)
            .execution_options(synchronize_session=False)
        )

    async def messages_for(self, mailbox_id: str, limit: int) -> list[LoggedMessage]:
        """The outbox messages about one mailbox, oldest first: those whose payload names
        it (`mailbox_id`, or `data.mailbox_id` in a partner event). A sandbox tool: the
        JSON is not indexed, so this reads the outbox."""
        payload = OutboxRow.payload
        stmt = (
            select(OutboxRow)
            .where(
                or_(
                    payload["mailbox_id"].as_string() == mailbox_id,
                    payload["data"]["mailbox_id"].as_string() == mailbox_id,
                )
            )
            .order_by(OutboxRow.id)
            .limit(limit)
        )
        return [
            LoggedMessage(
                row.id,
                row.kind,
                row.payload,
                row.created_at,
                row.delivered_at,
                row.attempts,
                row.last_error,
            )
            for row in (await self._session.scalars(stmt)).all()
        ]

    async def activity_between(
        self, after: datetime, until: datetime
    ) -> tuple[dict[str, int], dict[str, int]]:
        """Milestones reached (by name) and messages queued (by kind) in (after, until]:
        what the time-driven steps did while a test clock moved."""
        reached = await _counts(
            self._session,
            select(MailboxMilestoneRow.milestone, func.count())
            .where(MailboxMilestoneRow.reached_at > after, MailboxMilestoneRow.reached_at <= until)
            .group_by(MailboxMilestoneRow.milestone),
        )
        queued = await _counts(
            self._session,
            select(OutboxRow.kind, func.count())
            .where(OutboxRow.created_at > after, OutboxRow.created_at <= until)
            .group_by(OutboxRow.kind),
        )
        return reached, queued


def _due_in(window: MilestoneWindow) -> ColumnElement[bool]:
    milestone = window.milestone
    conditions: list[ColumnElement[bool]] = [MailboxRow.expires_on <= window.latest_expiry]
    if window.earliest_expiry is not None:
        conditions.append(MailboxRow.expires_on >= window.earliest_expiry)
    conditions.append(
        ~exists().where(
            MailboxMilestoneRow.mailbox_id == MailboxRow.id,
            MailboxMilestoneRow.expires_on == MailboxRow.expires_on,
            MailboxMilestoneRow.milestone == milestone.name,
        )
    )
    if not milestone.sent_while_order_pending:
        conditions.append(~exists().where(PendingRenewalRow.mailbox_id == MailboxRow.id))
        conditions.append(
            ~exists().where(
                PartnerRenewalModeRow.mailbox_id == MailboxRow.id,
                PartnerRenewalModeRow.partner_id == MailboxRow.partner_id,
                PartnerRenewalModeRow.mode == RenewalModeKind.TACIT.value,
            )
        )
    return and_(*conditions)


async def _counts(session: AsyncSession, stmt: Any) -> dict[str, int]:
    return {str(name): int(count) for name, count in (await session.execute(stmt)).all()}
