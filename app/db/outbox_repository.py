"""The outbox: written in the business transaction, delivered later by the worker.

Claiming uses SELECT … FOR UPDATE SKIP LOCKED on PostgreSQL so N workers never take the
same message; SQLite ignores the lock clause — the single-worker path of `make run`.
A claim is a lease: a worker that dies mid-delivery leaves the message to be retried
when the lease ends. Receivers get the dedupe key, so a retry is never applied twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.dialect import insert_or_ignore
from app.db.models import OutboxRow
from app.domain.outgoing_message import OutgoingMessage


class OutboxRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, kind: str, dedupe_key: str, payload: dict[str, Any], now: datetime) -> None:
        """Queue a message once: the same dedupe key is queued only the first time."""
        await self.add_many([OutgoingMessage(kind, dedupe_key, payload)], now)

    async def add_many(self, messages: Sequence[OutgoingMessage], now: datetime) -> None:
        """Queue messages in one write, each once (see `add`)."""
        if messages:
            stmt = insert_or_ignore(self._session, OutboxRow.__table__, on="dedupe_key")  # type: ignore[arg-type]
            await self._session.execute(stmt, [queued(message, now) for message in messages])

    async def claim_due(self, now: datetime, limit: int, lease: timedelta) -> list[OutboxRow]:
        due = (
            select(OutboxRow.id)
            .where(OutboxRow.delivered_at.is_(None), OutboxRow.available_at <= now)
            .order_by(OutboxRow.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        ids = list((await self._session.scalars(due)).all())
        if not ids:
            return []
        await self._session.execute(
            update(OutboxRow)
            .where(OutboxRow.id.in_(ids))
            .values(available_at=now + lease, attempts=OutboxRow.attempts + 1)
        )
        rows = await self._session.scalars(
            select(OutboxRow).where(OutboxRow.id.in_(ids)).order_by(OutboxRow.id)
        )
        return list(rows.all())

    async def delivered(self, message_id: int, now: datetime) -> None:
        await self._session.execute(
            update(OutboxRow).where(OutboxRow.id == message_id).values(delivered_at=now)
        )

    async def failed(self, message_id: int, error: str, retry_at: datetime) -> None:
        await self._session.execute(
            update(OutboxRow)
            .where(OutboxRow.id == message_id)
            .values(available_at=retry_at, last_error=error[:500])
        )

    async def backlog(self) -> int:
        count = await self._session.scalar(
            select(func.count()).select_from(OutboxRow).where(OutboxRow.delivered_at.is_(None))
        )
        return int(count or 0)


def queued(message: OutgoingMessage, now: datetime) -> dict[str, Any]:
    """The outbox row of a message queued `now`: due at once, never tried."""
    return {
        "kind": message.kind,
        "dedupe_key": message.dedupe_key,
        "payload": message.payload,
        "created_at": now,
        "available_at": now,
        "attempts": 0,
    }
