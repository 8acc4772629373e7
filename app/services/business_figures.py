"""The business figures Prometheus scrapes: orders by state, messages not yet delivered."""

from __future__ import annotations

from dataclasses import dataclass

from app.services.unit_of_work import UnitOfWorkProtocol


@dataclass(frozen=True, slots=True)
class BusinessFigures:
    orders_by_status: dict[str, int]
    outbox_backlog: int


async def business_figures(uow: UnitOfWorkProtocol) -> BusinessFigures:
    """Read at scrape time, in one short read-only transaction."""
    async with uow:
        return BusinessFigures(await uow.orders.count_by_status(), await uow.outbox.backlog())
