"""Staff and mail-platform endpoints under /v1/admin."""

from __future__ import annotations

from fastapi import APIRouter, Response

from app.domain.errors import FieldError, InvalidRenewalRequest
from app.routers.deps import StaffCallerDep
from app.routers.problems import PROBLEM_RESPONSES
from app.routers.v1.fields import NewIdInPath
from app.routers.v1.mailbox_schemas import MailboxMirrorIn, MailboxOut
from app.services import mailboxes

router = APIRouter(prefix="/admin", tags=["admin"])


@router.put(
    "/mailboxes/{mailbox_id}",
    operation_id="mirror_mailbox",
    summary="Create or update the mirror of a mail-platform mailbox",
    response_model=MailboxOut,
    responses={
        200: {"description": "Updated"},
        201: {"description": "Created", "model": MailboxOut},
        **PROBLEM_RESPONSES,
    },
)
async def mirror_mailbox(
    mailbox_id: NewIdInPath,
    body: MailboxMirrorIn,
    response: Response,
    caller: StaffCallerDep,
) -> MailboxOut:
    catalog = caller.container.catalog
    price_list = (await catalog.current()).price_list
    if body.plan not in price_list.plans:
        raise InvalidRenewalRequest([FieldError("plan", "unknown_plan")])
    view, created = await mailboxes.mirror_mailbox(
        caller.container.unit_of_work(), catalog, body.to_domain(mailbox_id), caller.now
    )
    response.status_code = 201 if created else 200
    return MailboxOut.of(view, caller.language)
