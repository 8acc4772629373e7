"""Staff and mail-platform endpoints under /v1/admin."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, Response
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, JsonValue, StringConstraints
from pydantic_core import PydanticCustomError
from starlette.responses import JSONResponse

from app.domain.errors import FieldError, InvalidRenewalRequest, InvalidRequest, known_codes
from app.domain.money import Money
from app.domain.payment_registration import is_currency_code
from app.routers.deps import IdempotencyKeyDep, StaffCallerDep
from app.routers.responses import LOCATION, REPLAYED, problem
from app.routers.v1.admin_examples import (
    COMMITTED_ORDER,
    MIRROR_REQUEST,
    MIRROR_RESPONSE,
    json_example,
)
from app.routers.v1.cursors import decode_row_cursor
from app.routers.v1.fields import IdInPath, NewIdInPath, is_identifier
from app.routers.v1.idempotent_answers import (
    answer_response,
    idempotent_request,
)
from app.routers.v1.mailbox_schemas import MailboxMirrorIn, MailboxOut
from app.routers.v1.money_schema import MoneyOut
from app.routers.v1.order_schemas import OrderOut
from app.services import mailboxes, orders, partner_credit, payment_retries
from app.services.accounts import staff_ref
from app.services.errors import ResourceNotFound
from app.services.mailboxes import HolderChange

router = APIRouter(prefix="/admin", tags=["admin"])


@router.put(
    "/mailboxes/{mailbox_id}",
    operation_id="mirror_mailbox",
    summary="Create or update the mirror of a mail-platform mailbox",
    description="Staff only. 201 when created, 200 when updated. The owner account (and "
    "partner) must exist: 422 `unknown_owner` names the call that creates it.",
    response_model=MailboxOut,
    responses={
        200: {"description": "Updated", "content": json_example(MIRROR_RESPONSE)},
        201: {
            "description": "Created",
            "model": MailboxOut,
            "headers": LOCATION,
            "content": json_example(MIRROR_RESPONSE),
        },
        409: problem("`mailbox_address_taken`: another mailbox has this address."),
        422: problem(
            "`validation_failed` (malformed, `unknown_plan`, invalid holder data), "
            "`unknown_owner` (with `create_with`)."
        ),
    },
)
async def mirror_mailbox(
    mailbox_id: NewIdInPath,
    body: Annotated[
        MailboxMirrorIn,
        Body(
            openapi_examples={
                "mirror": {
                    "summary": "A PRO mailbox of acc-rossi with 1 GB extra",
                    "value": MIRROR_REQUEST,
                }
            }
        ),
    ],
    response: Response,
    caller: StaffCallerDep,
) -> MailboxOut:
    catalog = caller.container.catalog
    price_list = (await catalog.current()).price_list
    if body.plan not in price_list.plans:
        raise InvalidRenewalRequest(
            [FieldError("plan", "unknown_plan", known_codes(price_list.plans))]
        )
    if body.billing is not None and body.holder is None:
        raise InvalidRequest([FieldError("holder", "holder_required")])
    holder = (
        HolderChange(body.holder_record(), staff_ref(caller.principal.subject))
        if body.holder_given()
        else None
    )
    view, created = await mailboxes.mirror_mailbox(
        caller.container.unit_of_work(),
        catalog,
        body.to_domain(mailbox_id),
        caller.now,
        caller.principal,
        with_auto_renewal=body.auto_renewal is not None or body.auto_renewal_years is not None,
        holder=holder,
    )
    response.status_code = 201 if created else 200
    if created:
        response.headers["Location"] = f"/v1/mailboxes/{mailbox_id}"
    return MailboxOut.of(view, caller.language)


@router.post(
    "/orders/{order_id}/payment-commitment",
    operation_id="register_payment_commitment",
    summary="Register a public administration's payment commitment: the order is fulfilled",
    description="Staff only. For a public administration's order awaiting payment: its "
    "mailboxes are renewed now, the transfer follows.",
    response_model=OrderOut,
    responses={
        200: {
            "description": "The order, fulfilled: `commitment_at` set, `paid_at` still null.",
            "content": json_example(COMMITTED_ORDER),
        },
        404: problem(
            "`order_not_found`, `commitment_not_applicable` (not a public administration's "
            "order awaiting payment)."
        ),
    },
)
async def register_payment_commitment(order_id: IdInPath, caller: StaffCallerDep) -> OrderOut:
    if not is_identifier(order_id):
        raise ResourceNotFound("order", order_id)
    container = caller.container
    order = await orders.register_commitment(container.unit_of_work(), order_id, caller.now)
    return OrderOut.of(order, container.payment_accounts)


def _positive_amount(amount: str) -> str:
    if Money.parse(amount).cents <= 0:
        raise PydanticCustomError("greater_than", "must be more than 0.00", {"gt": "0.00"})
    return amount


class CreditTopUpIn(BaseModel):
    model_config = ConfigDict(
        strict=True, extra="forbid", json_schema_extra={"examples": [{"amount": "250.00"}]}
    )

    amount: Annotated[
        str,
        StringConstraints(pattern=r"^\d{1,7}\.\d{2}$"),
        AfterValidator(_positive_amount),
    ] = Field(
        examples=["100.00"],
        description="What to add, EUR: a decimal string with two decimals, from 0.01 to "
        "9999999.99.",
        json_schema_extra={"not": {"pattern": r"^0+\.00$"}},  # zero is no top-up
    )


class CreditOut(BaseModel):
    # ptn-webreseller of the sandbox (500.00) after a top-up of 250.00.
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"partner_id": "ptn-webreseller", "credit": {"amount": "750.00", "currency": "EUR"}}
            ]
        }
    )

    partner_id: str = Field(description="The partner topped up.")
    credit: MoneyOut = Field(description="Its prepaid credit after the top-up, EUR.")


@router.post(
    "/partners/{partner_id}/credit",
    operation_id="top_up_partner_credit",
    summary="Top up a partner's prepaid credit",
    description="Staff only. Moves money: `Idempotency-Key` is required. Answers the new balance.",
    response_model=CreditOut,
    responses={
        200: {"headers": REPLAYED},
        404: problem("`partner_not_found`."),
        409: problem("`credit_limit_exceeded`: the credit would pass its ceiling."),
        422: problem("`validation_failed`, `idempotency_key_reused`."),
        428: problem("`idempotency_key_required`: send an Idempotency-Key."),
    },
)
async def top_up_partner_credit(
    partner_id: IdInPath,
    body: CreditTopUpIn,
    caller: StaffCallerDep,
    idempotency_key: IdempotencyKeyDep = None,
) -> JSONResponse:
    if not is_identifier(partner_id):
        raise ResourceNotFound("partner", partner_id)

    def render(balance_cents: int) -> tuple[int, dict[str, Any]]:
        out = CreditOut(partner_id=partner_id, credit=MoneyOut.of(balance_cents, "EUR"))
        return 200, out.model_dump(mode="json")

    request = idempotent_request(
        caller.principal,
        "top_up_partner_credit",
        idempotency_key,
        body,
        {"partner_id": partner_id},
    )
    answer = await partner_credit.top_up(
        caller.container.unit_of_work(),
        partner_id,
        Money.parse(body.amount).cents,
        caller.now,
        request,
        render,
    )
    return answer_response(answer)


_HELD_EVENT: dict[str, JsonValue] = {
    "event_row_id": 1,
    "provider": "generic",
    "event_id": "msg_2Lh9XcQ4bV7nT1pR",
    "kind": "payment.succeeded",
    "reason": "amount_mismatch",
    "order_ref": "PEC-2026-0000002",
    "order_id": "ord_d6eab0989ef64e03a0093b8e99653b83",
    "amount": {"amount": "34.16", "currency": "EUR"},
    "received_at": "2026-12-01T17:45:31.867182Z",
    "attempts": 0,
    "last_error": None,
}


class ReconciliationItemOut(BaseModel):
    event_row_id: int = Field(
        description="The stored event's id: what `POST /v1/admin/payment-events/{event_row_id}"
        "/retry` takes."
    )
    provider: str = Field(description="Who sent it: `stripe` or `generic`.")
    event_id: str = Field(description="The provider's event id (Stripe `evt_…`, `webhook-id`).")
    kind: str = Field(
        description="`payment.succeeded`, `payment.failed`, `payment.refunded` or `unreadable`."
    )
    reason: str | None = Field(
        description="Why it is held: `amount_mismatch`, `currency_mismatch`, `unknown_order`, "
        "`order_closed`, `duplicate_payment`, `refund_exceeds_payment`, "
        "`refund_for_closed_order`, `invalid_amount`, `amount_out_of_range`, `unreadable` or "
        "`processing_failed` (docs/payments.md says what to do for each)."
    )
    order_ref: str | None = Field(
        description="The order as the event named it (an order id or number); null: none."
    )
    order_id: str | None = Field(
        description="The order it matched (`ord_…`); null when it matched none."
    )
    amount: MoneyOut | None = Field(
        description="The amount the event carries; null: too large, or not an ISO 4217 "
        "currency (the raw value stays in the stored payload)."
    )
    received_at: datetime = Field(description="When it was received (UTC).")
    attempts: int = Field(description="Failed attempts to apply it before it was held.")
    last_error: str | None = Field(description="The last failure's error; null: none.")


class ReconciliationPageOut(BaseModel):
    # A bank transfer of the full total (34.16) for a split-payment order whose payable is
    # the net (28.00), from the sandbox.
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"items": [_HELD_EVENT], "next_cursor": None}]}
    )

    items: list[ReconciliationItemOut] = Field(description="The held events, oldest first.")
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null on the last page."
    )


@router.get(
    "/reconciliation",
    operation_id="list_reconciliation",
    summary="Payments that could not be applied: to refund or match by hand",
    description="Staff only. Oldest first; `next_cursor` pages on.",
    response_model=ReconciliationPageOut,
    responses={422: problem("`validation_failed`, `invalid_cursor`.")},
)
async def list_reconciliation(
    caller: StaffCallerDep,
    limit: Annotated[int, Query(ge=1, le=200, description="Items per page (1–200).")] = 50,
    cursor: Annotated[
        str | None, Query(max_length=200, description="`next_cursor` of the previous page.")
    ] = None,
) -> ReconciliationPageOut:
    page, after = await payment_retries.reconciliation(
        caller.container.unit_of_work, limit, decode_row_cursor(cursor)
    )
    return ReconciliationPageOut(
        items=[
            ReconciliationItemOut(
                event_row_id=row.id,
                provider=row.provider,
                event_id=row.event_id,
                kind=row.kind,
                reason=row.reason,
                order_ref=row.order_ref,
                order_id=row.order_id,
                amount=(
                    MoneyOut.of(row.amount_cents, row.currency)
                    if is_currency_code(row.currency) and row.amount_cents is not None
                    else None
                ),
                received_at=row.received_at,
                attempts=row.attempts,
                last_error=row.last_error,
            )
            for row in page
        ],
        next_cursor=None if after is None else str(after),
    )
