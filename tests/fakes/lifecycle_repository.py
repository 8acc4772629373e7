"""In-memory storage for the mailbox lifecycle sweep (app/db/lifecycle_repository.py)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import replace
from datetime import date, datetime

from app.db.lifecycle_repository import LoggedMessage
from app.domain.lifecycle import MilestoneWindow
from app.domain.mailbox import Mailbox, MailboxStatus
from tests.fakes.tables import Tables

IN_LIFECYCLE = (MailboxStatus.ACTIVE, MailboxStatus.EXPIRED)


class FakeLifecycle:
    def __init__(self, tables: Tables) -> None:
        self._tables = tables

    async def due(
        self,
        windows: Sequence[MilestoneWindow],
        after: tuple[date, str] | None,
        limit: int,
    ) -> list[Mailbox]:
        found = sorted(
            (
                m
                for m in self._tables.mailboxes.values()
                if m.status in IN_LIFECYCLE
                and not m.auto_renewal
                and any(self._due_in(m, window) for window in windows)
                and (after is None or (m.expires_on, m.id) > after)
            ),
            key=lambda m: (m.expires_on, m.id),
        )
        return found[:limit]

    def _due_in(self, mailbox: Mailbox, window: MilestoneWindow) -> bool:
        milestone = window.milestone
        if mailbox.expires_on > window.latest_expiry:
            return False
        if window.earliest_expiry is not None and mailbox.expires_on < window.earliest_expiry:
            return False
        if (mailbox.id, mailbox.expires_on, milestone.name) in self._tables.milestones:
            return False
        pending = mailbox.id in self._tables.pending_renewals
        set_by, mode = self._tables.renewal_modes.get(mailbox.id, (None, None))
        tacit = mode is not None and mode.tacit and set_by == mailbox.partner_id
        return milestone.sent_while_order_pending or not (pending or tacit)

    async def lock_unless_busy(self, ids: Sequence[str]) -> dict[str, Mailbox]:
        return {i: self._tables.mailboxes[i] for i in sorted(ids) if i in self._tables.mailboxes}

    async def mark_deleted(self, mailbox_id: str, now: datetime) -> None:  # noqa: ARG002
        mailbox = self._tables.mailboxes.get(mailbox_id)
        if mailbox is not None:
            self._tables.mailboxes[mailbox_id] = replace(mailbox, status=MailboxStatus.DELETED)

    async def messages_for(self, mailbox_id: str, limit: int) -> list[LoggedMessage]:
        found = sorted(
            (
                m
                for m in self._tables.outbox.values()
                if m.payload.get("mailbox_id") == mailbox_id
                or (m.payload.get("data") or {}).get("mailbox_id") == mailbox_id
            ),
            key=lambda m: m.id,
        )[:limit]
        return [
            LoggedMessage(
                m.id, m.kind, m.payload, m.available_at, m.delivered_at, m.attempts, m.last_error
            )
            for m in found
        ]

    async def activity_between(
        self, after: datetime, until: datetime
    ) -> tuple[dict[str, int], dict[str, int]]:
        reached = Counter(
            name for (_, _, name), at in self._tables.milestones.items() if after < at <= until
        )
        queued = Counter(
            m.kind for m in self._tables.outbox.values() if after < m.available_at <= until
        )
        return dict(reached), dict(queued)
