"""Reading and closing orders: list, show, cancel; staff register a PA commitment."""

from __future__ import annotations

from datetime import datetime, timedelta

from app.db.models import OrderRow
from app.db.unit_of_work import UnitOfWork
from app.domain.access import Principal, Role
from app.domain.billing import HolderKind
from app.domain.calendar import italian_date
from app.domain.mailbox import GRACE_DAYS
from app.domain.order import OrderNotCancellable, OrderStatus
from app.services.errors import ResourceNotFound
from app.services.fulfilment import fulfil


def visible(order: OrderRow | None, principal: Principal) -> bool:
    if order is None:
        return False
    return principal.may_open_order_of(Principal(Role(order.owner_role), order.owner_id))


async def get_order(uow: UnitOfWork, principal: Principal, order_id: str) -> OrderRow:
    async with uow:
        order = await uow.orders.get(order_id)
    if order is None or not visible(order, principal):
        raise ResourceNotFound("order", order_id)
    return order


async def list_orders(
    uow: UnitOfWork, principal: Principal, limit: int, before: tuple[datetime, int] | None
) -> tuple[list[OrderRow], tuple[datetime, int] | None]:
    async with uow:
        found = await uow.orders.list_visible(principal, limit + 1, before)
    page = found[:limit]
    next_before = (page[-1].created_at, page[-1].seq) if len(found) > limit else None
    return page, next_before


async def cancel_order(
    uow: UnitOfWork, principal: Principal, order_id: str, now: datetime
) -> OrderRow:
    """Cancel an unpaid order: its mailboxes can be renewed again."""
    async with uow:
        order = await uow.orders.get(order_id, for_update=True)
        if order is None or not visible(order, principal):
            raise ResourceNotFound("order", order_id)
        if order.status != OrderStatus.AWAITING_PAYMENT.value:
            raise OrderNotCancellable(OrderStatus(order.status))
        await close_order(uow, order, OrderStatus.CANCELLED, now)
        await uow.commit()
    return order


async def close_order(uow: UnitOfWork, order: OrderRow, status: OrderStatus, now: datetime) -> None:
    """Cancel or expire an unpaid order: free its mailboxes; refunds that were waiting
    for its payment will never see one, so staff get them to reconcile."""
    order.status = status.value
    order.closed_at = now
    await uow.orders.release_mailboxes(order.id)
    await uow.payment_events.reconcile_waiting(order.id, "refund_for_closed_order")


async def expire_unpaid_orders(uow: UnitOfWork, now: datetime, batch: int = 100) -> int:
    """Orders still unpaid when a mailbox's grace ends become EXPIRED (domain.md, Order).

    A payment that arrives later is kept for reconciliation (reason order_closed).
    """
    grace_start = italian_date(now) - timedelta(days=GRACE_DAYS)
    async with uow:
        expired = await uow.orders.unpaid_past_grace(grace_start, batch)
        for order in expired:
            await close_order(uow, order, OrderStatus.EXPIRED, now)
        await uow.commit()
    return len(expired)


class NotAPublicAdministration(ResourceNotFound):
    """Only a PA order awaiting payment takes a payment commitment."""

    def __init__(self, order_id: str) -> None:
        super().__init__("order", order_id)
        self.code = "commitment_not_applicable"


async def register_commitment(uow: UnitOfWork, order_id: str, now: datetime) -> OrderRow:
    """A PA's payment commitment: the order is fulfilled now, the money comes later."""
    async with uow:
        order = await uow.orders.get(order_id, for_update=True)
        if order is None:
            raise ResourceNotFound("order", order_id)
        is_pa = order.document["holder"]["kind"] == HolderKind.PUBLIC_ADMINISTRATION.value
        if not is_pa or order.status != OrderStatus.AWAITING_PAYMENT.value:
            raise NotAPublicAdministration(order_id)
        order.commitment_at = now
        await fulfil(uow, order, now, paid=False)
        await uow.commit()
    return order
