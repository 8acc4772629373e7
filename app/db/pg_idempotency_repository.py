"""Idempotency claims on the lean unit of work, in plain asyncpg.

The same statements as IdempotencyRepository (claim by INSERT … ON CONFLICT DO NOTHING,
the earlier record read under FOR UPDATE, the answer recorded by UPDATE), compiled once
from its table: every keyed POST on PostgreSQL claims and answers through here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import Table, bindparam, select, update
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.asyncpg_statements import CompiledStatement
from app.db.idempotency_repository import IdempotencyRepository
from app.db.models import IdempotencyRecordRow
from app.db.pg_outbox_repository import QUEUED_COLUMNS, insert_messages, message_values
from app.domain.idempotency_identity import IdempotencyIdentity
from app.domain.outgoing_message import OutgoingMessage

_RECORDS: Table = IdempotencyRecordRow.__table__  # type: ignore[assignment]
_IDENTITY = tuple(field.name for field in fields(IdempotencyIdentity))
_IS_IDENTITY = [_RECORDS.c[name] == bindparam(f"identity_{name}") for name in _IDENTITY]

CLAIMED = (*_IDENTITY, "fingerprint", "created_at")  # the claim's parameters
CLAIM = (
    postgresql.insert(_RECORDS)
    .values({name: bindparam(name) for name in CLAIMED})
    .on_conflict_do_nothing()
    .returning(IdempotencyRecordRow.key)
)
_CLAIM = CompiledStatement(CLAIM)
_EARLIER = CompiledStatement(
    select(
        IdempotencyRecordRow.fingerprint,
        IdempotencyRecordRow.status_code,
        IdempotencyRecordRow.body,
    )
    .where(*_IS_IDENTITY)
    .with_for_update()
)
_SET_ANSWER = (
    update(_RECORDS)
    .where(*_IS_IDENTITY)
    .values(status_code=bindparam("status_code"), body=bindparam("body"))
)
_RECORD_ANSWER = CompiledStatement(_SET_ANSWER)


@lru_cache(maxsize=8)  # one per number of messages: an order queues one email
def _record_answer_queueing(messages: int) -> CompiledStatement:
    """The answer's UPDATE with the outbox INSERT (as the outbox repository's) in a CTE."""
    queued = insert_messages(messages, QUEUED_COLUMNS).cte("queued")
    return CompiledStatement(_SET_ANSWER.add_cte(queued))


@dataclass(frozen=True, slots=True)
class EarlierClaim:
    """The first request under a key: what it asked and, once it committed, its answer."""

    fingerprint: str
    status_code: int | None
    body: dict[str, Any] | None


class AsyncpgIdempotencyRepository(IdempotencyRepository):
    def __init__(self, session: AsyncSession, connection: Any) -> None:
        super().__init__(session)
        self._db = connection  # the lean unit of work's asyncpg connection

    async def claim(  # type: ignore[override]  # an EarlierClaim, not the ORM row
        self, identity: IdempotencyIdentity, fingerprint: str, now: datetime
    ) -> EarlierClaim | None:
        claim = claim_values(identity, fingerprint, now)
        if await self._db.fetchval(_CLAIM.sql, *_CLAIM.args(claim)) is not None:
            return None
        return await self.earlier(identity)

    async def earlier(self, identity: IdempotencyIdentity) -> EarlierClaim | None:
        """The record that holds the key, locked (the claim found it)."""
        earlier = _where(identity)
        record = await self._db.fetchrow(_EARLIER.sql, *_EARLIER.args(earlier))
        if record is None:  # gone since the insert found it: as IdempotencyRepository
            return None
        return EarlierClaim(**_EARLIER.row(record))

    async def record_answer(
        self, identity: IdempotencyIdentity, status_code: int, body: dict[str, Any]
    ) -> None:
        values = _where(identity) | {"status_code": status_code, "body": body}
        await self._db.execute(_RECORD_ANSWER.sql, *_RECORD_ANSWER.args(values))

    async def record_answer_queueing(
        self,
        identity: IdempotencyIdentity,
        status_code: int,
        body: dict[str, Any],
        messages: Sequence[OutgoingMessage],
        now: datetime,
    ) -> None:
        if not messages:
            await self.record_answer(identity, status_code, body)
            return
        values = _where(identity) | {"status_code": status_code, "body": body}
        values |= message_values(messages, now)
        statement = _record_answer_queueing(len(messages))
        await self._db.execute(statement.sql, *statement.args(values))


def claim_values(identity: IdempotencyIdentity, fingerprint: str, now: datetime) -> dict[str, Any]:
    """CLAIM's parameters."""
    return identity.columns() | {"fingerprint": fingerprint, "created_at": now}


def _where(identity: IdempotencyIdentity) -> dict[str, Any]:
    """The identity as the where-clause's parameters (`identity_<column>`)."""
    return {f"identity_{name}": value for name, value in identity.columns().items()}
