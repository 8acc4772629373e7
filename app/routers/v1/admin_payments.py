"""Staff actions on stored payment events: apply again one held for reconciliation."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path
from pydantic import BaseModel, ConfigDict, Field

from app.routers.deps import StaffCallerDep
from app.routers.responses import problem
from app.services import payment_retries

router = APIRouter(prefix="/admin", tags=["admin"])


class PaymentEventOut(BaseModel):
    # The sandbox's answer for a bank transfer of 34.16 against a public administration's
    # order whose payable is 28.00 (split payment): held again, with its reason.
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": 1,
                    "provider": "generic",
                    "event_id": "msg_2Lh9XcQ4bV7nT1pR",
                    "kind": "payment.succeeded",
                    "outcome": "reconcile",
                    "reason": "amount_mismatch",
                    "order_id": "ord_d6eab0989ef64e03a0093b8e99653b83",
                    "attempts": 0,
                    "last_error": None,
                    "processed_at": "2026-12-01T17:45:33.406647Z",
                }
            ]
        }
    )

    id: int = Field(description="The stored event's row id (`event_row_id`).")
    provider: str = Field(description="Who sent it: `stripe` or `generic`.")
    event_id: str = Field(description="The provider's event id (Stripe `evt_…`, `webhook-id`).")
    kind: str = Field(
        description="`payment.succeeded`, `payment.failed`, `payment.refunded`, `unreadable`, "
        "or another provider event type (ignored)."
    )
    outcome: str | None = Field(
        description="What applying it did: `fulfil`, `record_payment`, `record_failure`, "
        "`record_refund`, `wait`, `ignored` or `reconcile`; null: still awaiting a retry."
    )
    reason: str | None = Field(
        description="Why it is held for reconciliation (with `reconcile`), e.g. "
        "`amount_mismatch`, `unknown_order`; null otherwise."
    )
    order_id: str | None = Field(
        description="The order it was matched to (`ord_…`); null when none matched."
    )
    attempts: int = Field(description="Failed attempts to apply it (lost connections, timeouts…).")
    last_error: str | None = Field(description="The last failure's error; null: none.")
    processed_at: datetime | None = Field(
        description="When it was last applied (UTC); null: not yet."
    )


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
