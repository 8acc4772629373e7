"""Holders on file on the lean unit of work: the read every order without a holder makes
and the one a fulfilment makes before recording the order's holder, in plain asyncpg (the
same queries and mappings as HolderRepository.on_file and .owners)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import String, any_, bindparam
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.asyncpg_rows import AttributeRow
from app.db.asyncpg_statements import CompiledStatement
from app.db.holder_repository import (
    ON_FILE,
    OWNERS,
    HolderRepository,
    on_file_from_documents,
    owner_from_row,
)
from app.db.models import MailboxRow
from app.domain.holder_record import HolderOnFile, HolderOwner

_ON_FILE = CompiledStatement(
    ON_FILE.where(MailboxRow.id == any_(bindparam("ids", type_=postgresql.ARRAY(String))))
)
_OWNERS = CompiledStatement(
    OWNERS.where(MailboxRow.id == any_(bindparam("ids", type_=postgresql.ARRAY(String))))
)


class AsyncpgHolderRepository(HolderRepository):
    def __init__(self, session: AsyncSession, connection: Any) -> None:
        super().__init__(session)
        self._db = connection  # the lean unit of work's asyncpg connection

    async def on_file(self, mailbox_ids: Sequence[str]) -> dict[str, HolderOnFile | None]:
        records = await self._db.fetch(_ON_FILE.sql, *_ON_FILE.args({"ids": list(mailbox_ids)}))
        rows = [_ON_FILE.row(record) for record in records]
        return {
            row["id"]: on_file_from_documents(
                row["holder"], row["billing"], row["account_holder"], row["account_billing"]
            )
            for row in rows
        }

    async def owners(self, mailbox_ids: Sequence[str]) -> dict[str, HolderOwner]:
        records = await self._db.fetch(_OWNERS.sql, *_OWNERS.args({"ids": list(mailbox_ids)}))
        rows = [_OWNERS.row(record) for record in records]
        return {row["id"]: owner_from_row(AttributeRow(row)) for row in rows}
