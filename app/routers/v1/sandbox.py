"""Sandbox only: pay an order by making the service send itself a signed webhook.

So a frontend team can walk quote → order → payment → renewed mailbox from /docs.
"""

from __future__ import annotations

import httpx
from fastapi import APIRouter, Request

from app.adapters.webhook_signing import signed_payment
from app.routers.deps import CallerDep
from app.routers.problems import ProblemError
from app.routers.responses import problem
from app.routers.v1.fields import IdInPath, is_identifier
from app.routers.v1.order_schemas import OrderOut
from app.services import orders
from app.services.errors import ResourceNotFound

router = APIRouter(prefix="/sandbox", tags=["sandbox"])


@router.post(
    "/orders/{order_id}/pay",
    operation_id="sandbox_pay_order",
    summary="Sandbox: pay an order with a correctly signed provider webhook",
    response_model=OrderOut,
    responses={
        404: problem("`sandbox_only` (outside the sandbox), `order_not_found`."),
        502: problem("`internal_error`: the signed webhook was refused."),
    },
    description="Card and PayPal orders are paid through the `stripe` webhook, the others "
    "through the `generic` feed (by order number, as a bank transfer would be).",
)
async def sandbox_pay_order(order_id: IdInPath, request: Request, caller: CallerDep) -> OrderOut:
    container = caller.container
    if not container.settings.sandbox:
        raise ProblemError(404, "sandbox_only")
    if not is_identifier(order_id):
        raise ResourceNotFound("order", order_id)
    order = await orders.get_order(container.unit_of_work(), caller.principal, order_id)
    provider, body, headers = signed_payment(
        order_id=order.id,
        order_number=order.number,
        payable_cents=order.payable_cents,
        currency=order.currency,
        by_card=order.payment_method.turns_auto_renewal_on,
        secrets=container.webhook_secrets,
        at=container.clock(),
    )
    transport = httpx.ASGITransport(app=request.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://sandbox") as client:
        answer = await client.post(
            f"/v1/webhooks/payments/{provider}", content=body, headers=headers
        )
    if answer.status_code != 200:
        raise ProblemError(502, "internal_error", detail=answer.text)
    paid = await orders.get_order(container.unit_of_work(), caller.principal, order_id)
    return OrderOut.of(paid, container.payment_accounts)
