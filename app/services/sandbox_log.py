"""The sandbox's log, over HTTP: what was sent about a mailbox, and what a clock move did.

In the sandbox nothing leaves the process (no SMTP server, no mail platform): the
outbox is the record of what would have been sent, so a frontend reads it here instead
of the server's log.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from app.db.lifecycle_repository import LoggedMessage
from app.domain.access import Principal
from app.services.errors import ResourceNotFound
from app.services.unit_of_work import UnitOfWorkProtocol

__all__ = ["Activity", "LoggedMessage", "activity_between", "messages_of"]


@dataclass(frozen=True, slots=True)
class Activity:
    """What the time-driven work did while a test clock moved."""

    milestones: dict[str, int]  # milestones reached, by name
    queued: dict[str, int]  # outbox messages queued, by kind


async def messages_of(
    uow: UnitOfWorkProtocol, principal: Principal, mailbox_id: str, limit: int
) -> list[LoggedMessage]:
    """The messages about a mailbox the caller may see, oldest first."""
    async with uow:
        if await uow.mailboxes.get_visible(principal, mailbox_id) is None:
            raise ResourceNotFound("mailbox", mailbox_id)
        return await uow.lifecycle.messages_for(mailbox_id, limit)


async def activity_between(uow: UnitOfWorkProtocol, after: datetime, until: datetime) -> Activity:
    async with uow:
        milestones, queued = await uow.lifecycle.activity_between(after, until)
    return Activity(milestones, queued)
