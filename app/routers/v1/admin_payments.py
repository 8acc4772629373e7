"""Staff actions on stored payment events: apply again one held for reconciliation."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path
from pydantic import BaseModel

from app.routers.deps import StaffCallerDep
from app.routers.responses import problem
from app.services import payment_retries

router = APIRouter(prefix="/admin", tags=["admin"])


class PaymentEventOut(BaseModel):
    id: int
    provider: str
    event_id: str
    kind: str
    outcome: str | None  # fulfil, record_payment, reconcile…; None: still awaiting a retry
    reason: str | None  # why it is held for reconciliation
    order_id: str | None
    attempts: int  # failed attempts to apply it (lost connections, timeouts…)
    last_error: str | None
    processed_at: datetime | None


@router.post(
    "/payment-events/{event_row_id}/retry",
    operation_id="retry_payment_event",
    summary="Apply again a payment event held for reconciliation, once its cause is fixed",
    description=(
        "For an event held for reconciliation (or still awaiting a retry after a failure): "
        "it is decided and applied again, exactly once, and the answer says what happened "
        "— `fulfil` now that the order can take it, or `reconcile` again with the reason. "
        "An event already applied is a 409 `payment_event_already_applied`."
    ),
    response_model=PaymentEventOut,
    responses={
        404: problem("`payment_event_not_found`."),
        409: problem("`payment_event_already_applied` (with `outcome`)."),
    },
)
async def retry_payment_event(
    event_row_id: Annotated[
        int, Path(ge=1, le=2**31 - 1, description="`event_row_id` from the reconciliation list.")
    ],
    caller: StaffCallerDep,
) -> PaymentEventOut:
    event = await payment_retries.apply_held_event(
        caller.container.unit_of_work, event_row_id, caller.now
    )
    return PaymentEventOut(
        id=event.id,
        provider=event.provider,
        event_id=event.event_id,
        kind=event.kind,
        outcome=event.outcome,
        reason=event.reason,
        order_id=event.order_id,
        attempts=event.attempts,
        last_error=event.last_error,
        processed_at=event.processed_at,
    )
