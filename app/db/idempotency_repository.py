"""Idempotency records: the first answer to a keyed POST, claimed before the work runs.

The claim is an INSERT … ON CONFLICT DO NOTHING in the use case's own transaction: on
PostgreSQL a concurrent duplicate's insert waits on the first one's row until that
transaction ends, then finds it committed (and replays it) or gone (and runs itself).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.dialect import insert_or_ignore
from app.db.models import IdempotencyRecordRow
from app.db.outbox_repository import OutboxRepository
from app.domain.idempotency_identity import IdempotencyIdentity
from app.domain.outgoing_message import OutgoingMessage


class IdempotencyRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def claim(
        self, identity: IdempotencyIdentity, fingerprint: str, now: datetime
    ) -> IdempotencyRecordRow | None:
        """None when this transaction now owns the key; else the earlier record, locked."""
        columns = identity.columns()
        stmt = insert_or_ignore(self._session, IdempotencyRecordRow.__table__)  # type: ignore[arg-type]
        inserted = await self._session.execute(
            stmt.returning(IdempotencyRecordRow.key),
            {**columns, "fingerprint": fingerprint, "created_at": now},
        )
        if inserted.scalar_one_or_none() is not None:
            return None
        return await self._session.scalar(
            select(IdempotencyRecordRow)
            .filter_by(**columns)
            .with_for_update()
            .execution_options(populate_existing=True)
        )

    async def record_answer(
        self, identity: IdempotencyIdentity, status_code: int, body: dict[str, Any]
    ) -> None:
        await self._session.execute(
            update(IdempotencyRecordRow)
            .filter_by(**identity.columns())
            .values(status_code=status_code, body=body)
        )

    async def record_answer_queueing(
        self,
        identity: IdempotencyIdentity,
        status_code: int,
        body: dict[str, Any],
        messages: Sequence[OutgoingMessage],
        now: datetime,
    ) -> None:
        """`record_answer`, and `messages` queued as Outbox.add_many queues them (the lean
        repository writes both in one statement)."""
        await OutboxRepository(self._session).add_many(messages, now)
        await self.record_answer(identity, status_code, body)
