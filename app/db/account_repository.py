"""Customer accounts: created and replaced by staff, read by the use cases."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.dialect import insert_or_ignore
from app.db.holder_documents import record_from_documents, record_to_documents
from app.db.models import AccountRow
from app.domain.account import Account


class AccountRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get(self, account_id: str, *, for_update: bool = False) -> Account | None:
        stmt = select(AccountRow).where(AccountRow.id == account_id)
        if for_update:
            stmt = stmt.with_for_update()
        row = await self._session.scalar(stmt.execution_options(populate_existing=True))
        return None if row is None else _account_from_row(row)

    async def language_of(self, account_id: str) -> str | None:
        """The language the account's emails are written in; None: no such account."""
        return await self._session.scalar(
            select(AccountRow.language).where(AccountRow.id == account_id)
        )

    async def exists(self, account_id: str) -> bool:
        return await self.language_of(account_id) is not None

    async def add(self, account: Account) -> bool:
        """Insert `account`; False when its id exists already (a concurrent create won)."""
        stmt = insert_or_ignore(self._session, AccountRow.__table__, on="id")  # type: ignore[arg-type]
        result = await self._session.execute(stmt, _values(account))
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def replace(self, account: Account) -> None:
        values = _values(account)
        del values["id"]
        await self._session.execute(
            update(AccountRow).where(AccountRow.id == account.id).values(values)
        )


def _account_from_row(row: AccountRow) -> Account:
    return Account(
        id=row.id,
        name=row.name,
        email=row.email,
        language=row.language,
        holder=record_from_documents(row.holder, row.billing),
        updated_by=row.updated_by,
        updated_at=row.updated_at,
    )


def _values(account: Account) -> dict[str, object]:
    return {
        "id": account.id,
        "name": account.name,
        "email": account.email,
        "language": account.language,
        **record_to_documents(account.holder),
        "updated_by": account.updated_by,
        "updated_at": account.updated_at,
    }
