"""In-memory scheduled plan changes (app/db/plan_change_repository.py's stand-in)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from app.domain.plan_change import ScheduledChange
from tests.fakes.tables import Tables


class FakePlanChanges:
    def __init__(self, tables: Tables) -> None:
        self._tables = tables
        self._scheduled = tables.scheduled_changes

    async def schedule(self, changes: Sequence[ScheduledChange], now: datetime) -> None:  # noqa: ARG002
        for change in changes:
            self._scheduled[change.mailbox_id] = change

    async def cancel(self, mailbox_ids: Sequence[str]) -> None:
        for mailbox_id in mailbox_ids:
            self._scheduled.pop(mailbox_id, None)

    async def of(self, mailbox_ids: Sequence[str]) -> dict[str, ScheduledChange]:
        return {i: self._scheduled[i] for i in mailbox_ids if i in self._scheduled}

    async def claim_due(self, today: date, limit: int) -> list[ScheduledChange]:
        due = sorted(
            (c for c in self._scheduled.values() if c.due(today)),
            key=lambda c: (c.effective_on, c.mailbox_id),
        )
        return due[:limit]

    async def apply(self, change: ScheduledChange, now: datetime) -> bool:  # noqa: ARG002
        if self._scheduled.get(change.mailbox_id) != change:
            return False
        del self._scheduled[change.mailbox_id]
        mailbox = self._tables.mailboxes.get(change.mailbox_id)
        if mailbox is not None:
            self._tables.mailboxes[change.mailbox_id] = change.applied_to(mailbox)
        return True
