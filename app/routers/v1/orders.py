"""Orders: place one from a quote, list and show them, cancel an unpaid one."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from starlette.responses import JSONResponse

from app.domain.order_aggregate import Order
from app.routers.deps import CallerDep, IdempotencyKeyDep
from app.routers.lean_route import LeanRoute
from app.routers.responses import LOCATION, REPLAYED, problem
from app.routers.v1.cursors import decode_order_cursor, encode_order_cursor
from app.routers.v1.fields import IdInPath, is_identifier
from app.routers.v1.idempotent_answers import (
    answer_response,
    idempotent_request,
)
from app.routers.v1.order_schemas import (
    CANCELLED_ORDER_EXAMPLE,
    OrderIn,
    OrderOut,
    OrderPageOut,
    order_json,
)
from app.services import order_placement, orders
from app.services.errors import ResourceNotFound

router = APIRouter(tags=["orders"], route_class=LeanRoute)

ORDER_NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: problem("`order_not_found`: no such order, or not yours.")
}


@router.post(
    "/orders",
    operation_id="create_order",
    summary="Turn a valid, unblocked quote into an order awaiting payment",
    status_code=201,
    response_model=OrderOut,
    responses={
        201: {"headers": {**LOCATION, **REPLAYED}},
        404: problem("`quote_not_found`: no such quote, or not yours."),
        409: problem(
            "`quote_expired`, `quote_blocked`, `quote_already_ordered` (with `order_id`), "
            "`pending_order_exists` (with `order_id` and `mailbox_id`), `insufficient_credit`."
        ),
        422: problem(
            "`validation_failed` (malformed, or invalid tax ids and billing data), "
            "`consent_required`, `acknowledgement_required`, `holder_required`, "
            "`idempotency_key_reused`."
        ),
        428: problem("`idempotency_key_required`: send an Idempotency-Key."),
    },
    description=(
        "Pays exactly the quote's total (the net under PA split payment). The confirmation "
        "email with the payment instructions goes to the holder's address. Partners pay at "
        "once from their prepaid credit (`partner_credit`)."
    ),
)
async def create_order(
    body: OrderIn,
    caller: CallerDep,
    idempotency_key: IdempotencyKeyDep = None,
) -> JSONResponse:
    container = caller.container

    def render(order: Order) -> tuple[int, dict[str, Any]]:
        return 201, order_json(order, container.payment_accounts)

    answer = await order_placement.place_order(
        container.unit_of_work(),
        caller.principal,
        body.to_domain(container.settings.consents_version),
        caller.now,
        caller.language,
        container.payment_accounts,
        idempotent_request(caller.principal, "create_order", idempotency_key, body),
        render,
        container.order_in_one_write,
    )
    return answer_response(answer, {"Location": f"/v1/orders/{answer.body['id']}"})


@router.get(
    "/orders",
    operation_id="list_orders",
    summary="Your orders, newest first",
    description="Customers see their account's orders, partners theirs, staff all; "
    "`next_cursor` pages on.",
    response_model=OrderPageOut,
    responses={422: problem("`validation_failed`, `invalid_cursor`.")},
)
async def list_orders(
    caller: CallerDep,
    limit: Annotated[int, Query(ge=1, le=100, description="Items per page (1–100).")] = 20,
    cursor: Annotated[
        str | None, Query(max_length=200, description="`next_cursor` of the previous page.")
    ] = None,
) -> OrderPageOut:
    container = caller.container
    page, next_before = await orders.list_orders(
        container.unit_of_work(), caller.principal, limit, decode_order_cursor(cursor)
    )
    return OrderPageOut(
        items=[OrderOut.of(order, container.payment_accounts) for order in page],
        next_cursor=encode_order_cursor(next_before) if next_before else None,
    )


@router.get(
    "/orders/{order_id}",
    operation_id="get_order",
    summary="One of your orders, with its payment instructions",
    description="Another owner's order is a 404, as an unknown one is.",
    response_model=OrderOut,
    responses=ORDER_NOT_FOUND,
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
    description="Only an order `AWAITING_PAYMENT` can be cancelled (409 "
    "`order_not_cancellable` otherwise). Answers the cancelled order.",
    response_model=OrderOut,
    responses={
        200: {"content": {"application/json": {"example": CANCELLED_ORDER_EXAMPLE}}},
        **ORDER_NOT_FOUND,
        409: problem("`order_not_cancellable`: only an order awaiting payment can be."),
    },
)
async def cancel_order(order_id: IdInPath, caller: CallerDep) -> OrderOut:
    if not is_identifier(order_id):
        raise ResourceNotFound("order", order_id)
    container = caller.container
    order = await orders.cancel_order(
        container.unit_of_work(), caller.principal, order_id, caller.now
    )
    return OrderOut.of(order, container.payment_accounts)
