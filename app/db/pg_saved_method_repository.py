"""Saved payment methods on the lean unit of work: the one a card payment that turns
automatic renewal on keeps, in plain asyncpg (the same INSERT … ON CONFLICT DO NOTHING
and values as SavedMethodRepository.add); listing and removal stay the SQLAlchemy
repository's, on the same transaction."""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.asyncpg_statements import CompiledStatement
from app.db.models import SavedPaymentMethodRow
from app.db.saved_method_repository import (
    METHOD_COLUMNS,
    SavedMethodRepository,
    method_values,
)
from app.domain.saved_payment_method import SavedPaymentMethod

_METHODS = cast(Table, SavedPaymentMethodRow.__table__)
_ADD = CompiledStatement(
    postgresql.insert(_METHODS).on_conflict_do_nothing(),
    column_keys=list(METHOD_COLUMNS),
)


class AsyncpgSavedMethodRepository(SavedMethodRepository):
    def __init__(self, session: AsyncSession, connection: Any) -> None:
        super().__init__(session)
        self._db = connection  # the lean unit of work's asyncpg connection

    async def add(self, method: SavedPaymentMethod) -> bool:
        status = await self._db.execute(_ADD.sql, *_ADD.args(method_values(method)))
        return bool(status == "INSERT 0 1")
