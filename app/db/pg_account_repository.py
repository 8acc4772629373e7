"""Accounts on the lean unit of work: the language an order's emails are written in, in
plain asyncpg (the same query as AccountRepository.language_of)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.account_repository import AccountRepository
from app.db.asyncpg_statements import CompiledStatement
from app.db.models import AccountRow

_LANGUAGE_OF = CompiledStatement(
    select(AccountRow.language).where(AccountRow.id == bindparam("account_id"))
)


class AsyncpgAccountRepository(AccountRepository):
    def __init__(self, session: AsyncSession, connection: Any) -> None:
        super().__init__(session)
        self._db = connection  # the lean unit of work's asyncpg connection

    async def language_of(self, account_id: str) -> str | None:
        args = _LANGUAGE_OF.args({"account_id": account_id})
        language: str | None = await self._db.fetchval(_LANGUAGE_OF.sql, *args)
        return language
