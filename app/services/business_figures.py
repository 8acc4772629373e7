"""The business figures Prometheus scrapes: orders by state, messages not yet delivered."""

from __future__ import annotations

from dataclasses import dataclass

from app.db.unit_of_work import UnitOfWork


@dataclass(frozen=True, slots=True)
class BusinessFigures:
    orders_by_status: dict[str, int]
    outbox_backlog: int


async def business_figures(uow: UnitOfWork) -> BusinessFigures:
    """Read at scrape time, in one short read-only transaction."""
    async with uow:
        return BusinessFigures(await uow.orders.count_by_status(), await uow.outbox.backlog())
