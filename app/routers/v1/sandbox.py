"""Sandbox only: pay an order by making the service send itself a signed webhook; move
the test clock; read what was sent.

So a frontend team can walk quote → order → payment → renewed mailbox from /docs, and
watch a mailbox's reminders and deletion by moving the clock.
"""

from __future__ import annotations

from typing import Annotated

import httpx
from fastapi import APIRouter, Query, Request

from app.adapters.webhook_signing import (
    signed_payment,
)
from app.clock import system_clock
from app.container import Container
from app.routers.deps import Caller, CallerDep
from app.routers.problems import ProblemError
from app.routers.responses import problem
from app.routers.v1.fields import IdInPath, is_identifier
from app.routers.v1.order_schemas import OrderOut
from app.routers.v1.sandbox_schemas import (
    ClockIn,
    ClockMoveOut,
    ClockOut,
    SandboxMessageOut,
    SandboxMessagesOut,
)
from app.sandbox.test_clock import move_clock, test_clock
from app.services import orders, sandbox_log
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
        at=system_clock(),  # signatures are checked against the wall clock, which the
        # sandbox's test clock may be ahead of
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


# --- the test clock, and the log of what was sent --------------------------------------


def _sandbox_container(caller: Caller) -> Container:
    container = caller.container
    if not container.settings.sandbox:
        raise ProblemError(404, "sandbox_only")
    return container


@router.get(
    "/clock",
    operation_id="sandbox_get_clock",
    summary="Sandbox: where the test clock stands",
    response_model=ClockOut,
    responses={404: problem("`sandbox_only` (outside the sandbox).")},
    description="The sandbox's now, which every operation sees; it moves only forward, "
    "with `PUT /v1/sandbox/clock`.",
)
async def sandbox_get_clock(caller: CallerDep) -> ClockOut:
    container = _sandbox_container(caller)
    return ClockOut.at(container.clock(), test_clock(container).offset)


@router.put(
    "/clock",
    operation_id="sandbox_move_clock",
    summary="Sandbox: move the test clock forward, running the time-driven work on the way",
    response_model=ClockMoveOut,
    responses={
        404: problem("`sandbox_only` (outside the sandbox)."),
        409: problem("`clock_backwards`: the clock only moves forward (`now`: where it is)."),
        422: problem("`validation_failed`, `clock_jump_too_far` (`max_days`)."),
    },
    description="For each day the clock crosses, and at the new `now`, the worker runs as it "
    "would have: reminders and deletions (the mailbox lifecycle), unpaid orders expired, "
    "the outbox delivered (to the server log where SMTP and the mail platform are not "
    "configured). `GET /v1/sandbox/messages?mailbox_id=` shows what was sent.",
)
async def sandbox_move_clock(body: ClockIn, caller: CallerDep) -> ClockMoveOut:
    container = _sandbox_container(caller)
    move = await move_clock(container, body.now)
    done = await sandbox_log.activity_between(container.unit_of_work(), move.previous, move.now)
    ahead = test_clock(container).offset
    return ClockMoveOut.of(move.previous, move.now, ahead, move.moments, move.work_done, done)


@router.get(
    "/messages",
    operation_id="sandbox_list_messages",
    summary="Sandbox: what was sent about a mailbox (emails, mail platform calls, partner events)",
    response_model=SandboxMessagesOut,
    responses={
        404: problem("`sandbox_only` (outside the sandbox), `mailbox_not_found`."),
    },
    description="The outbox's messages about one of your mailboxes, oldest first: the "
    "lifecycle's reminders and deletion notice, the mail platform's renewals and deletion, "
    "the events for its partner. In the sandbox they are delivered to the server log; "
    "this is the same log, over HTTP.",
)
async def sandbox_list_messages(
    caller: CallerDep,
    mailbox_id: Annotated[str, Query(min_length=1, max_length=64, description="The mailbox's id.")],
    limit: Annotated[int, Query(ge=1, le=200, description="At most this many (1–200).")] = 100,
) -> SandboxMessagesOut:
    container = _sandbox_container(caller)
    if not is_identifier(mailbox_id):
        raise ResourceNotFound("mailbox", mailbox_id)
    found = await sandbox_log.messages_of(
        container.unit_of_work(), caller.principal, mailbox_id, limit
    )
    return SandboxMessagesOut(items=[SandboxMessageOut.of(message) for message in found])
