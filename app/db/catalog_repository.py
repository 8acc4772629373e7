"""Price lists: the one in force at a moment, with everything it prices."""

from __future__ import annotations

from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from app.db.mappers import price_list_from_rows, price_list_to_rows
from app.db.models import (
    ConventionCodeRow,
    PlanRow,
    PriceListRow,
    PromotionRow,
    SignatureKitRow,
)
from app.domain.catalog import PriceList

CatalogRow = TypeVar("CatalogRow", PlanRow, SignatureKitRow, PromotionRow, ConventionCodeRow)


class CatalogRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def price_list_in_force(self, moment: datetime) -> PriceList | None:
        """The newest price list whose validity window contains `moment`."""
        stmt = (
            select(PriceListRow)
            .where(
                PriceListRow.valid_from <= moment,
                or_(PriceListRow.valid_until.is_(None), PriceListRow.valid_until > moment),
            )
            .order_by(PriceListRow.valid_from.desc())
            .limit(1)
        )
        row = await self._session.scalar(stmt)
        if row is None:
            return None
        return price_list_from_rows(
            row,
            await self._all(PlanRow, row.id, PlanRow.position),
            await self._all(SignatureKitRow, row.id, SignatureKitRow.code),
            await self._all(PromotionRow, row.id, PromotionRow.id),
            await self._all(ConventionCodeRow, row.id, ConventionCodeRow.code),
        )

    async def exists(self, price_list_id: str) -> bool:
        return (await self._session.get(PriceListRow, price_list_id)) is not None

    async def add(self, price_list: PriceList) -> None:
        rows = price_list_to_rows(price_list)
        self._session.add(rows[0])
        await self._session.flush()  # the price list before what refers to it
        self._session.add_all(rows[1:])
        await self._session.flush()

    async def _all(
        self, model: type[CatalogRow], price_list_id: str, order: InstrumentedAttribute[Any]
    ) -> list[CatalogRow]:
        # A fixed order keeps the price list (and so its ETag) identical in every process.
        stmt = select(model).where(model.price_list_id == price_list_id).order_by(order)
        return list((await self._session.scalars(stmt)).all())
