"""Price lists: the one in force at a moment, with everything it prices; publishing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Select, delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from app.db.dialect import insert_or_ignore
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
# What refers to the price list, in the order it can be deleted.
_CONTENTS = (PromotionRow, ConventionCodeRow, SignatureKitRow, PlanRow)


@dataclass(frozen=True, slots=True)
class PriceListInForce:
    """The list in force, and when the next published one takes over (None: none yet)."""

    price_list: PriceList
    next_valid_from: datetime | None


@dataclass(frozen=True, slots=True)
class PublishedPriceList:
    id: str
    valid_from: datetime
    valid_until: datetime | None
    published_by: str | None
    published_at: datetime | None


class CatalogRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def price_list_in_force(self, moment: datetime) -> PriceList | None:
        """The newest price list whose validity window contains `moment`."""
        row = await self._session.scalar(
            _in_force_at(moment).order_by(PriceListRow.valid_from.desc()).limit(1)
        )
        return None if row is None else await self._load(row)

    async def in_force(self, moment: datetime) -> PriceListInForce | None:
        """The list in force at `moment`, with the moment a later-dated list starts."""
        price_list = await self.price_list_in_force(moment)
        if price_list is None:
            return None
        next_valid_from = await self._session.scalar(
            select(PriceListRow.valid_from)
            .where(PriceListRow.valid_from > moment)
            .order_by(PriceListRow.valid_from)
            .limit(1)
        )
        return PriceListInForce(price_list, next_valid_from)

    async def id_in_force(self, moment: datetime) -> str | None:
        stmt = _in_force_at(moment).order_by(PriceListRow.valid_from.desc()).limit(1)
        row = await self._session.scalar(stmt)
        return None if row is None else row.id

    async def published(self) -> list[PublishedPriceList]:
        """Every published list, the latest-starting first."""
        rows = await self._session.scalars(
            select(PriceListRow).order_by(PriceListRow.valid_from.desc(), PriceListRow.id)
        )
        return [_summary(row) for row in rows]

    async def summary(self, price_list_id: str) -> PublishedPriceList | None:
        row = await self._session.get(PriceListRow, price_list_id, populate_existing=True)
        return None if row is None else _summary(row)

    async def get(self, price_list_id: str, *, for_update: bool = False) -> PriceList | None:
        stmt = select(PriceListRow).where(PriceListRow.id == price_list_id)
        if for_update:
            stmt = stmt.with_for_update()
        row = await self._session.scalar(stmt)
        return None if row is None else await self._load(row)

    async def exists(self, price_list_id: str) -> bool:
        return (await self._session.get(PriceListRow, price_list_id)) is not None

    async def add(
        self,
        price_list: PriceList,
        published_by: str | None = None,
        published_at: datetime | None = None,
    ) -> bool:
        """Store a new price list; False (and nothing written) when its id is taken.

        The database decides between two concurrent publishers of the same id.
        """
        header, *contents = price_list_to_rows(price_list)
        values = _columns(header) | {"published_by": published_by, "published_at": published_at}
        stmt = insert_or_ignore(self._session, PriceListRow.__table__)  # type: ignore[arg-type]
        result = await self._session.execute(stmt, values)
        if not result.rowcount:  # type: ignore[attr-defined]
            return False
        self._session.add_all(contents)
        await self._session.flush()
        return True

    async def replace(
        self, price_list: PriceList, published_by: str, published_at: datetime
    ) -> None:
        """Replace a stored list's every row (its id stays: quotes may refer to it)."""
        header, *contents = price_list_to_rows(price_list)
        for model in _CONTENTS:
            await self._session.execute(delete(model).where(model.price_list_id == price_list.id))
        values = _columns(header) | {"published_by": published_by, "published_at": published_at}
        await self._session.execute(
            update(PriceListRow).where(PriceListRow.id == price_list.id).values(values)
        )
        self._session.add_all(contents)
        await self._session.flush()

    async def _load(self, row: PriceListRow) -> PriceList:
        return price_list_from_rows(
            row,
            await self._all(PlanRow, row.id, PlanRow.position),
            await self._all(SignatureKitRow, row.id, SignatureKitRow.code),
            await self._all(PromotionRow, row.id, PromotionRow.id),
            await self._all(ConventionCodeRow, row.id, ConventionCodeRow.code),
        )

    async def _all(
        self, model: type[CatalogRow], price_list_id: str, order: InstrumentedAttribute[Any]
    ) -> list[CatalogRow]:
        # A fixed order keeps the price list (and so its ETag) identical in every process.
        stmt = select(model).where(model.price_list_id == price_list_id).order_by(order)
        return list((await self._session.scalars(stmt)).all())


def _in_force_at(moment: datetime) -> Select[PriceListRow]:
    return select(PriceListRow).where(
        PriceListRow.valid_from <= moment,
        or_(PriceListRow.valid_until.is_(None), PriceListRow.valid_until > moment),
    )


def _summary(r: PriceListRow) -> PublishedPriceList:
    return PublishedPriceList(r.id, r.valid_from, r.valid_until, r.published_by, r.published_at)


def _columns(row: object) -> dict[str, Any]:
    assert isinstance(row, PriceListRow)  # price_list_to_rows puts it first
    return {column.key: getattr(row, column.key) for column in PriceListRow.__table__.columns}
