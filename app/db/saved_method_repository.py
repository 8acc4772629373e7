"""Saved payment methods: kept once per account and provider reference, removed at will."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.dialect import insert_or_ignore
from app.db.models import SavedPaymentMethodRow
from app.domain.saved_payment_method import SavedPaymentMethod


class SavedMethodRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, method: SavedPaymentMethod) -> bool:
        """Keep `method`; False when the account already has that provider reference."""
        stmt = insert_or_ignore(self._session, SavedPaymentMethodRow.__table__)  # type: ignore[arg-type]
        result = await self._session.execute(stmt, method_values(method))
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def of_account(self, account_id: str) -> list[SavedPaymentMethod]:
        """The account's saved methods, newest first (the first is the one charged)."""
        rows = await self._session.scalars(
            select(SavedPaymentMethodRow)
            .where(SavedPaymentMethodRow.account_id == account_id)
            .order_by(SavedPaymentMethodRow.created_at.desc(), SavedPaymentMethodRow.id.desc())
        )
        return [_method(row) for row in rows]

    async def remove(self, account_id: str, method_id: str) -> bool:
        """Forget one of the account's methods; False when it has no such method."""
        result = await self._session.execute(
            delete(SavedPaymentMethodRow).where(
                SavedPaymentMethodRow.id == method_id,
                SavedPaymentMethodRow.account_id == account_id,
            )
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]


METHOD_COLUMNS = (
    "id",
    "account_id",
    "provider",
    "kind",
    "customer_ref",
    "method_ref",
    "order_id",
    "created_at",
)


def method_values(method: SavedPaymentMethod) -> dict[str, Any]:
    """The row's values for `method` (the fields of the same names)."""
    return {name: getattr(method, name) for name in METHOD_COLUMNS}


def _method(row: SavedPaymentMethodRow) -> SavedPaymentMethod:
    return SavedPaymentMethod(
        id=row.id,
        account_id=row.account_id,
        provider=row.provider,
        kind=row.kind,
        customer_ref=row.customer_ref,
        method_ref=row.method_ref,
        order_id=row.order_id,
        created_at=row.created_at,
    )
