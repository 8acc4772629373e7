"""The outbox on the lean unit of work: messages queued in plain asyncpg, several in one
INSERT (one row per message, as OutboxRepository.queued builds it); delivery (claims,
leases) stays the SQLAlchemy repository's."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any, cast

from sqlalchemy import Table, bindparam
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.asyncpg_statements import CompiledStatement
from app.db.models import OutboxRow
from app.db.outbox_repository import OutboxRepository, queued
from app.domain.outgoing_message import OutgoingMessage

_OUTBOX = cast(Table, OutboxRow.__table__)


def insert_messages(rows: int, columns: tuple[str, ...]) -> Any:
    """INSERT of `rows` messages … ON CONFLICT (dedupe_key) DO NOTHING: a key already
    queued (or twice in the batch) is queued once. Its values: message_values."""
    values = [
        {name: bindparam(f"{name}_{i}", type_=_OUTBOX.c[name].type) for name in columns}
        for i in range(rows)
    ]
    return (
        postgresql.insert(_OUTBOX)
        .values(values)
        .on_conflict_do_nothing(index_elements=["dedupe_key"])
    )


def message_values(messages: Sequence[OutgoingMessage], now: datetime) -> dict[str, Any]:
    """The values of insert_messages(len(messages), QUEUED_COLUMNS)."""
    rows = [queued(message, now) for message in messages]
    return {f"{name}_{i}": value for i, row in enumerate(rows) for name, value in row.items()}


QUEUED_COLUMNS = tuple(queued(OutgoingMessage("", "", {}), datetime.now(UTC)))


@lru_cache(maxsize=32)  # one per batch size: an order renews a handful of mailboxes
def _insert(rows: int) -> CompiledStatement:
    return CompiledStatement(insert_messages(rows, QUEUED_COLUMNS))


class AsyncpgOutboxRepository(OutboxRepository):
    def __init__(self, session: AsyncSession, connection: Any) -> None:
        super().__init__(session)
        self._db = connection  # the lean unit of work's asyncpg connection

    async def add_many(self, messages: Sequence[OutgoingMessage], now: datetime) -> None:
        if not messages:
            return
        statement = _insert(len(messages))
        await self._db.execute(statement.sql, *statement.args(message_values(messages, now)))
