"""A partner's credit statement: the ledger with the balance after each movement, as a
page of JSON or as a whole CSV file (for a spreadsheet or the partner's accounting)."""

from __future__ import annotations

import csv
import io
from typing import Annotated, Literal

from fastapi import APIRouter, Header, Query
from fastapi.responses import Response

from app.domain.money import Money
from app.domain.partner import CreditMovement
from app.routers.deps import PartnerCallerDep
from app.routers.responses import problem
from app.routers.v1.cursors import decode_row_cursor
from app.routers.v1.partner import CreditStatementOut
from app.services.partner_statement import credit_statement, whole_ledger

router = APIRouter(prefix="/partner", tags=["partner"])
CSV = "text/csv"
CSV_COLUMNS = ("created_at", "kind", "amount", "balance_after", "currency", "order_id")
CSV_EXAMPLE = (
    "created_at,kind,amount,balance_after,currency,order_id\r\n"
    "2026-12-01T17:45:16.522446+00:00,top_up,250.00,750.00,EUR,\r\n"
    "2026-12-01T17:45:19.180200+00:00,order,-12.08,737.92,EUR,"
    "ord_54bf8a4244d240fcb1b09145879ae2e8\r\n"
)


@router.get(
    "/credit/statement",
    operation_id="get_partner_credit_statement",
    summary="Your credit statement: every movement with the balance after it (JSON or CSV)",
    description="JSON (the default): a page of the ledger, newest first, `next_cursor` "
    "pages on. CSV (`?format=csv`, or `Accept: text/csv`): the whole ledger, oldest first, "
    "one line per movement, amounts in EUR with two decimals (negative for a debit); the "
    "sum of `amount` is your balance.",
    response_model=CreditStatementOut,
    responses={
        200: {
            "content": {
                CSV: {
                    "schema": {"type": "string"},
                    "example": CSV_EXAMPLE,
                }
            },
            "headers": {
                "Content-Disposition": {
                    "description": "CSV only: the file name to save it as.",
                    "required": False,
                    "schema": {"type": "string"},
                }
            },
        },
        403: problem("`forbidden`: partners only."),
        404: problem("`partner_not_found`: your token names no partner on file."),
        422: problem("`validation_failed`, `invalid_cursor`."),
    },
)
async def get_partner_credit_statement(
    caller: PartnerCallerDep,
    output: Annotated[
        Literal["json", "csv"] | None,
        Query(alias="format", description="`csv` or `json`; omitted: as `Accept` asks."),
    ] = None,
    accept: Annotated[str | None, Header(include_in_schema=False)] = None,
    limit: Annotated[int, Query(ge=1, le=200, description="JSON: items per page (1–200).")] = 50,
    cursor: Annotated[
        str | None, Query(max_length=200, description="JSON: `next_cursor` of the last page.")
    ] = None,
) -> CreditStatementOut | Response:
    uow = caller.container.unit_of_work()
    partner_id = caller.principal.subject
    if output == "csv" or (output is None and _asks_for_csv(accept)):
        _, movements = await whole_ledger(uow, partner_id)
        return Response(
            _csv(movements),
            media_type=f"{CSV}; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="statement-{partner_id}.csv"'},
        )
    statement = await credit_statement(uow, partner_id, limit, decode_row_cursor(cursor))
    return CreditStatementOut.of(statement)


def _asks_for_csv(accept: str | None) -> bool:
    """CSV only when the client prefers it to JSON (a browser's `*/*` gets JSON)."""
    if not accept:
        return False
    kinds = [part.split(";")[0].strip().lower() for part in accept.split(",")]
    return CSV in kinds and (
        "application/json" not in kinds or kinds.index(CSV) < kinds.index("application/json")
    )


def _csv(movements: list[CreditMovement]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for m in movements:
        writer.writerow(
            (
                m.created_at.isoformat(),
                m.kind,
                Money(m.amount_cents).amount,
                Money(m.balance_after_cents).amount,
                "EUR",
                m.order_id or "",
            )
        )
    return out.getvalue()
