"""Reading and closing orders: list, show, cancel; staff register a PA commitment."""

from __future__ import annotations

from datetime import datetime, timedelta

from app.domain.access import Principal
from app.domain.calendar import italian_date
from app.domain.mailbox import GRACE_DAYS
from app.domain.order_aggregate import CommitmentNotApplicable, Order
from app.services.errors import ResourceNotFound
from app.services.fulfilment import fulfil
from app.services.unit_of_work import UnitOfWorkProtocol


async def get_order(uow: UnitOfWorkProtocol, principal: Principal, order_id: str) -> Order:
    async with uow:
        order = await uow.orders.load(order_id)
    if order is None or not order.visible_to(principal):
        raise ResourceNotFound("order", order_id)
    return order


async def list_orders(
    uow: UnitOfWorkProtocol, principal: Principal, limit: int, before: tuple[datetime, int] | None
) -> tuple[list[Order], tuple[datetime, int] | None]:
    async with uow:
        found = await uow.orders.list_visible(principal, limit + 1, before)
    page = found[:limit]
    next_before = (page[-1].created_at, page[-1].seq) if len(found) > limit else None
    return page, next_before


async def cancel_order(
    uow: UnitOfWorkProtocol, principal: Principal, order_id: str, now: datetime
) -> Order:
    """Cancel an unpaid order: its mailboxes can be renewed again."""
    async with uow:
        order = await uow.orders.load(order_id, lock=True)
        if order is None or not order.visible_to(principal):
            raise ResourceNotFound("order", order_id)
        order.cancel(now)
        await closed(uow, order)
        await uow.commit()
    return order


async def closed(uow: UnitOfWorkProtocol, order: Order) -> None:
    """Save an order just cancelled or expired: its mailboxes are free again; refunds
    that were waiting for its payment will never see one, so staff get them to reconcile."""
    await uow.orders.save(order)
    await uow.orders.release_mailboxes(order.id)
    await uow.payment_events.reconcile_waiting(order.id, "refund_for_closed_order")


async def expire_unpaid_orders(uow: UnitOfWorkProtocol, now: datetime, batch: int = 100) -> int:
    """Orders still unpaid when a mailbox's grace ends become EXPIRED (domain.md, Order).

    A payment that arrives later is kept for reconciliation (reason order_closed).
    """
    grace_start = italian_date(now) - timedelta(days=GRACE_DAYS)
    async with uow:
        expired = await uow.orders.unpaid_past_grace(grace_start, batch)
        for order in expired:
            order.expire(now)
            await closed(uow, order)
        await uow.commit()
    return len(expired)


class NotAPublicAdministration(ResourceNotFound):
    """Only a PA order awaiting payment takes a payment commitment."""

    def __init__(self, order_id: str) -> None:
        super().__init__("order", order_id)
        self.code = CommitmentNotApplicable.code


async def register_commitment(uow: UnitOfWorkProtocol, order_id: str, now: datetime) -> Order:
    """A PA's payment commitment: the order is fulfilled now, the money comes later."""
    async with uow:
        order = await uow.orders.load(order_id, lock=True)
        if order is None:
            raise ResourceNotFound("order", order_id)
        mailboxes = await uow.mailboxes.lock_for_renewal(order.mailbox_ids)
        try:
            changes = order.register_commitment(mailboxes, now)
        except CommitmentNotApplicable as exc:
            raise NotAPublicAdministration(order_id) from exc
        await fulfil(uow, order, changes, now)
        await uow.orders.save(order)
        await uow.commit()
    return order
