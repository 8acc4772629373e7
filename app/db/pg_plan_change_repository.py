"""Scheduled plan changes on the lean unit of work: the one a fulfilment always runs —
what the renewed mailboxes had scheduled, dropped — in plain asyncpg; the rest (the
schedule, the sweep) stays the SQLAlchemy repository's, on the same transaction."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import String, any_, bindparam, delete
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.asyncpg_statements import CompiledStatement
from app.db.models import ScheduledPlanChangeRow
from app.db.plan_change_repository import PlanChangeRepository

_CANCEL = CompiledStatement(
    delete(ScheduledPlanChangeRow).where(
        ScheduledPlanChangeRow.mailbox_id == any_(bindparam("ids", type_=postgresql.ARRAY(String)))
    )
)


class AsyncpgPlanChangeRepository(PlanChangeRepository):
    def __init__(self, session: AsyncSession, connection: Any) -> None:
        super().__init__(session)
        self._db = connection  # the lean unit of work's asyncpg connection

    async def cancel(self, mailbox_ids: Sequence[str]) -> None:
        if mailbox_ids:
            await self._db.execute(_CANCEL.sql, *_CANCEL.args({"ids": list(mailbox_ids)}))
