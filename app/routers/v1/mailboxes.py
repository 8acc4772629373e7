"""GET /v1/mailboxes and /v1/mailboxes/{id}: what the caller may renew, and why not."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query

from app.domain.mailbox import MailboxStatus
from app.routers.deps import CallerDep
from app.routers.responses import problem
from app.routers.v1.cursors import decode_mailbox_cursor, encode_mailbox_cursor
from app.routers.v1.fields import IdInPath, is_identifier
from app.routers.v1.mailbox_schemas import (
    AUTO_RENEWING_MAILBOX_EXAMPLE,
    AutoRenewalIn,
    MailboxOut,
    MailboxPageOut,
)
from app.services import mailboxes
from app.services.errors import ResourceNotFound

router = APIRouter(tags=["mailboxes"])
MAILBOX_NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: problem("`mailbox_not_found`: no such mailbox, or not yours.")
}


@router.get(
    "/mailboxes",
    operation_id="list_mailboxes",
    summary="The mailboxes you may renew, soonest expiry first",
    description="Each with `renewable` (show the Rinnova button) and its `renewal_blockers`; "
    "filter by `status` and `expiring_before`; `next_cursor` pages on.",
    response_model=MailboxPageOut,
    responses={422: problem("`validation_failed`, `invalid_cursor`.")},
)
async def list_mailboxes(
    caller: CallerDep,
    status: Annotated[
        MailboxStatus | None, Query(description="Only mailboxes in this status.")
    ] = None,
    expiring_before: Annotated[date | None, Query(description="Expiry strictly before")] = None,
    limit: Annotated[int, Query(ge=1, le=200, description="Items per page (1–200).")] = 50,
    cursor: Annotated[
        str | None, Query(max_length=200, description="`next_cursor` of the previous page.")
    ] = None,
) -> MailboxPageOut:
    after = decode_mailbox_cursor(cursor)
    container = caller.container
    page = await mailboxes.list_mailboxes(
        container.unit_of_work(),
        container.catalog,
        caller.principal,
        caller.now,
        limit,
        status,
        expiring_before,
        after,
    )
    return MailboxPageOut(
        items=[MailboxOut.of(view, caller.language) for view in page.views],
        next_cursor=encode_mailbox_cursor(page.next_after) if page.next_after else None,
    )


@router.get(
    "/mailboxes/{mailbox_id}",
    operation_id="get_mailbox",
    summary="One mailbox, with whether it can be renewed now",
    description="Another owner's mailbox is a 404, as an unknown one is.",
    response_model=MailboxOut,
    responses=MAILBOX_NOT_FOUND,
)
async def get_mailbox(mailbox_id: IdInPath, caller: CallerDep) -> MailboxOut:
    if not is_identifier(mailbox_id):
        raise ResourceNotFound("mailbox", mailbox_id)
    container = caller.container
    view = await mailboxes.get_mailbox(
        container.unit_of_work(), container.catalog, caller.principal, mailbox_id, caller.now
    )
    return MailboxOut.of(view, caller.language)


@router.put(
    "/mailboxes/{mailbox_id}/auto-renewal",
    operation_id="set_auto_renewal",
    summary="Turn automatic renewal on or off",
    response_model=MailboxOut,
    responses={
        200: {"content": {"application/json": {"example": AUTO_RENEWING_MAILBOX_EXAMPLE}}},
        **MAILBOX_NOT_FOUND,
        409: problem("`mailbox_deleted`, `mailbox_suspended`: it can't be renewed."),
    },
    description="A mailbox with automatic renewal on can't be renewed by hand: "
    "turn it off first (`auto_renewal_active`).",
)
async def set_auto_renewal(
    mailbox_id: IdInPath, body: AutoRenewalIn, caller: CallerDep
) -> MailboxOut:
    if not is_identifier(mailbox_id):
        raise ResourceNotFound("mailbox", mailbox_id)
    container = caller.container
    view = await mailboxes.set_auto_renewal(
        container.unit_of_work(),
        container.catalog,
        caller.principal,
        mailbox_id,
        body.enabled,
        body.years,
        caller.now,
    )
    return MailboxOut.of(view, caller.language)
