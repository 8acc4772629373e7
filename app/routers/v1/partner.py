"""Partner endpoints under /v1/partner: what a reseller reads about its own account."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from app.domain.partner import CreditMovement
from app.routers.deps import PartnerCallerDep
from app.routers.responses import problem
from app.routers.v1.cursors import decode_row_cursor
from app.routers.v1.money_schema import MoneyOut
from app.services.partner_statement import Statement, credit_statement

router = APIRouter(prefix="/partner", tags=["partner"])


class CreditMovementOut(BaseModel):
    kind: str = Field(
        examples=["top_up", "order"],
        description="`top_up` (staff added credit) or `order` (an order paid from it).",
    )
    amount: MoneyOut = Field(
        description="The movement, EUR: positive for a top-up, negative for an order."
    )
    balance_after: MoneyOut = Field(description="The credit right after this movement, EUR.")
    order_id: str | None = Field(description="The order paid (`ord_…`); null for a top-up.")
    created_at: datetime = Field(description="When it happened (UTC).")

    @classmethod
    def of(cls, movement: CreditMovement) -> CreditMovementOut:
        return cls(
            kind=movement.kind,
            amount=MoneyOut.of(movement.amount_cents, "EUR"),
            balance_after=MoneyOut.of(movement.balance_after_cents, "EUR"),
            order_id=movement.order_id,
            created_at=movement.created_at,
        )


class CreditStatementOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "partner_id": "ptn-webreseller",
                    "balance": {"amount": "737.92", "currency": "EUR"},
                    "low_credit_threshold": {"amount": "100.00", "currency": "EUR"},
                    "items": [
                        {
                            "kind": "order",
                            "amount": {"amount": "-12.08", "currency": "EUR"},
                            "balance_after": {"amount": "737.92", "currency": "EUR"},
                            "order_id": "ord_54bf8a4244d240fcb1b09145879ae2e8",
                            "created_at": "2026-12-01T17:45:19.180200Z",
                        },
                        {
                            "kind": "top_up",
                            "amount": {"amount": "250.00", "currency": "EUR"},
                            "balance_after": {"amount": "750.00", "currency": "EUR"},
                            "order_id": None,
                            "created_at": "2026-12-01T17:45:16.522446Z",
                        },
                    ],
                    "next_cursor": None,
                }
            ]
        }
    )

    partner_id: str = Field(description="Your partner id.")
    balance: MoneyOut = Field(description="The prepaid credit now, EUR.")
    low_credit_threshold: MoneyOut = Field(
        description="Your low-credit threshold, EUR, as staff set it: top up before the "
        "balance falls below it."
    )
    items: list[CreditMovementOut] = Field(description="The ledger, newest first.")
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null on the last page."
    )

    @classmethod
    def of(cls, statement: Statement) -> CreditStatementOut:
        partner = statement.partner
        return cls(
            partner_id=partner.profile.id,
            balance=MoneyOut.of(partner.credit_cents, "EUR"),
            low_credit_threshold=MoneyOut.of(partner.profile.low_credit_threshold_cents, "EUR"),
            items=[CreditMovementOut.of(m) for m in statement.movements],
            next_cursor=str(statement.next_before_id) if statement.next_before_id else None,
        )


@router.get(
    "/credit",
    operation_id="get_partner_credit",
    summary="Your prepaid credit, low-credit threshold and ledger",
    description="Partners only. The ledger is newest first; `next_cursor` pages on.",
    response_model=CreditStatementOut,
    responses={
        403: problem("`forbidden`: partners only."),
        404: problem("`partner_not_found`: your token names no partner on file."),
        422: problem("`validation_failed`, `invalid_cursor`."),
    },
)
async def get_partner_credit(
    caller: PartnerCallerDep,
    limit: Annotated[int, Query(ge=1, le=200, description="Items per page (1–200).")] = 50,
    cursor: Annotated[
        str | None, Query(max_length=200, description="`next_cursor` of the previous page.")
    ] = None,
) -> CreditStatementOut:
    statement = await credit_statement(
        caller.container.unit_of_work(), caller.principal.subject, limit, decode_row_cursor(cursor)
    )
    return CreditStatementOut.of(statement)
