"""A partner's renewal mode for the mailboxes it manages: tacit or at expiry."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from app.routers.deps import PartnerCallerDep
from app.routers.responses import problem
from app.routers.v1.fields import IdInPath, is_identifier
from app.routers.v1.renewal_mode_schemas import RenewalModeIn, RenewalModeOut
from app.services import renewal_modes
from app.services.errors import ResourceNotFound

router = APIRouter(prefix="/partner", tags=["partner"])

NOT_MANAGED: dict[int | str, dict[str, Any]] = {
    403: problem("`forbidden`: partners only."),
    404: problem("`mailbox_not_found`: no such mailbox, or not one you manage."),
}


@router.get(
    "/mailboxes/{mailbox_id}/renewal-mode",
    operation_id="get_renewal_mode",
    summary="How a mailbox you manage is renewed",
    description="`at_expiry` (1 year) until you set it. Another partner's mailbox is a "
    "404, as an unknown one is.",
    response_model=RenewalModeOut,
    responses=NOT_MANAGED,
)
async def get_renewal_mode(mailbox_id: IdInPath, caller: PartnerCallerDep) -> RenewalModeOut:
    if not is_identifier(mailbox_id):
        raise ResourceNotFound("mailbox", mailbox_id)
    found = await renewal_modes.get_renewal_mode(
        caller.container.unit_of_work(), caller.principal, mailbox_id
    )
    return RenewalModeOut.of(found)


@router.put(
    "/mailboxes/{mailbox_id}/renewal-mode",
    operation_id="set_renewal_mode",
    summary="Renew a mailbox you manage tacitly from your credit, or by hand",
    description="A tacit renewal is an order paid from your credit, placed 7 days before "
    "expiry with the holder on file; when the credit is short it waits, you are told "
    "(`payment.failed` webhook and an email) and it is tried again every day until the "
    "expiry day.",
    response_model=RenewalModeOut,
    responses={
        **NOT_MANAGED,
        409: problem("`mailbox_deleted`, `mailbox_suspended`: it can't be renewed."),
        422: problem("`validation_failed` (`years`: `frequency_not_allowed`)."),
    },
)
async def set_renewal_mode(
    mailbox_id: IdInPath, body: RenewalModeIn, caller: PartnerCallerDep
) -> RenewalModeOut:
    if not is_identifier(mailbox_id):
        raise ResourceNotFound("mailbox", mailbox_id)
    found = await renewal_modes.set_renewal_mode(
        caller.container.unit_of_work(),
        caller.principal,
        mailbox_id,
        body.mode,
        body.years,
        caller.now,
    )
    return RenewalModeOut.of(found)
