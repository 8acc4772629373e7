"""Orders: place one from a quote, list and show them, cancel an unpaid one."""

from __future__ import annotations

import base64
import binascii
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Response

from app.routers.deps import CallerDep, IdempotencyKeyDep
from app.routers.problems import PROBLEM_RESPONSES, ProblemError
from app.routers.v1.fields import IdInPath, is_identifier
from app.routers.v1.order_schemas import OrderIn, OrderOut, OrderPageOut
from app.services import order_placement, orders
from app.services.errors import ResourceNotFound

router = APIRouter(tags=["orders"])

ORDER_RESPONSES = {
    **PROBLEM_RESPONSES,
    409: {
        "description": "quote_expired, quote_blocked, quote_already_ordered, "
        "pending_order_exists, insufficient_credit, order_not_cancellable",
        "content": {"application/problem+json": {}},
    },
}


@router.post(
    "/orders",
    operation_id="create_order",
    summary="Turn a valid, unblocked quote into an order awaiting payment",
    status_code=201,
    response_model=OrderOut,
    responses=ORDER_RESPONSES,
    description=(
        "Pays exactly the quote's total (the net under PA split payment). The confirmation "
        "email with the payment instructions goes to the holder's address. Partners pay at "
        "once from their prepaid credit (`partner_credit`)."
    ),
)
async def create_order(
    body: OrderIn,
    response: Response,
    caller: CallerDep,
    idempotency_key: IdempotencyKeyDep = None,
) -> OrderOut:
    container = caller.container
    placed = await order_placement.place_order(
        container.unit_of_work(),
        caller.principal,
        body.to_domain(container.settings.consents_version),
        caller.now,
        caller.language,
        container.payment_accounts,
        idempotency_key,
    )
    if placed.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    response.headers["Location"] = f"/v1/orders/{placed.order.id}"
    return OrderOut.of(placed.order, container.payment_accounts)


@router.get(
    "/orders",
    operation_id="list_orders",
    summary="Your orders, newest first",
    response_model=OrderPageOut,
    responses=PROBLEM_RESPONSES,
)
async def list_orders(
    caller: CallerDep,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> OrderPageOut:
    container = caller.container
    page, next_before = await orders.list_orders(
        container.unit_of_work(), caller.principal, limit, _decode(cursor)
    )
    return OrderPageOut(
        items=[OrderOut.of(order, container.payment_accounts) for order in page],
        next_cursor=_encode(next_before) if next_before else None,
    )


@router.get(
    "/orders/{order_id}",
    operation_id="get_order",
    summary="One of your orders, with its payment instructions",
    response_model=OrderOut,
    responses=PROBLEM_RESPONSES,
)
async def get_order(order_id: IdInPath, caller: CallerDep) -> OrderOut:
    if not is_identifier(order_id):
        raise ResourceNotFound("order", order_id)
    container = caller.container
    order = await orders.get_order(container.unit_of_work(), caller.principal, order_id)
    return OrderOut.of(order, container.payment_accounts)


@router.post(
    "/orders/{order_id}/cancel",
    operation_id="cancel_order",
    summary="Cancel an order awaiting payment: its mailboxes can be renewed again",
    response_model=OrderOut,
    responses=ORDER_RESPONSES,
)
async def cancel_order(order_id: IdInPath, caller: CallerDep) -> OrderOut:
    if not is_identifier(order_id):
        raise ResourceNotFound("order", order_id)
    container = caller.container
    order = await orders.cancel_order(
        container.unit_of_work(), caller.principal, order_id, caller.now
    )
    return OrderOut.of(order, container.payment_accounts)


def _encode(before: tuple[datetime, int]) -> str:
    return base64.urlsafe_b64encode(f"{before[0].isoformat()}|{before[1]}".encode()).decode()


def _decode(cursor: str | None) -> tuple[datetime, int] | None:
    if cursor is None:
        return None
    try:
        moment, _, seq = base64.urlsafe_b64decode(cursor.encode()).decode().partition("|")
        parsed = datetime.fromisoformat(moment)
        if parsed.tzinfo is None:
            raise ValueError("naive")
        if not seq.isascii() or not seq.isdigit() or int(seq) > 2**31 - 1:
            raise ValueError("not a sequence")
        return parsed, int(seq)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise ProblemError(422, "invalid_cursor") from None
