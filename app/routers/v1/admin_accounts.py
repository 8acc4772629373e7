"""Customer accounts, for staff: create or replace one, with its holder on file."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from fastapi import APIRouter, Response
from pydantic import BaseModel, ConfigDict, Field

from app.domain.account import Account, HolderVersion
from app.domain.errors import FieldError, InvalidRequest
from app.routers.deps import StaffCallerDep
from app.routers.responses import LOCATION, problem
from app.routers.v1.fields import IdInPath, NewIdInPath, Text, is_identifier
from app.routers.v1.holder_schemas import (
    BillingIn,
    Email,
    HolderIn,
    HolderRecordOut,
    record_of,
)
from app.services import accounts
from app.services.accounts import AccountView
from app.services.errors import ResourceNotFound

router = APIRouter(prefix="/admin", tags=["admin"])


class AccountIn(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")

    name: Text
    email: Email
    language: Literal["it", "en"] = Field("it", description="The language of its emails.")
    holder: HolderIn | None = Field(
        None,
        description="The holder on file for its mailboxes, offered for confirmation at each "
        "renewal. Omitted: kept as it is; null: none on file.",
    )
    billing: BillingIn | None = Field(None, description="The holder's billing data.")

    def to_domain(self, account_id: str) -> Account:
        return Account(
            id=account_id,
            name=self.name,
            email=self.email.lower(),
            language=self.language,
            holder=record_of(self.holder, self.billing),
        )

    def keeps_holder(self) -> bool:
        return "holder" not in self.model_fields_set


class HolderVersionOut(HolderRecordOut):
    mailbox_id: str | None = Field(description="null: the account's own record.")
    replaced_at: datetime
    replaced_by: str = Field(examples=["order:ord_1f2e", "staff:staff-helpdesk"])

    @classmethod
    def of_version(cls, version: HolderVersion) -> HolderVersionOut | None:
        if version.record is None:
            return None
        record = HolderRecordOut.of(version.record)
        return cls(
            holder=record.holder,
            billing=record.billing,
            mailbox_id=version.mailbox_id,
            replaced_at=version.replaced_at,
            replaced_by=version.replaced_by,
        )


class AccountOut(BaseModel):
    id: str
    name: str
    email: str
    language: str
    holder_on_file: HolderRecordOut | None = Field(
        description="The account's holder and billing data (null: none on file)."
    )
    holder_history: list[HolderVersionOut] = Field(
        description="Replaced holder records of the account and its mailboxes, newest first."
    )
    updated_by: str | None
    updated_at: datetime | None

    @classmethod
    def of(cls, view: AccountView) -> AccountOut:
        account = view.account
        history = [HolderVersionOut.of_version(v) for v in view.holder_history]
        return cls(
            id=account.id,
            name=account.name,
            email=account.email,
            language=account.language,
            holder_on_file=HolderRecordOut.of(account.holder) if account.holder else None,
            holder_history=[version for version in history if version is not None],
            updated_by=account.updated_by,
            updated_at=account.updated_at,
        )


@router.put(
    "/accounts/{account_id}",
    operation_id="put_account",
    summary="Create or replace a customer account, with its holder on file",
    response_model=AccountOut,
    responses={
        200: {"description": "Replaced"},
        201: {"description": "Created", "model": AccountOut, "headers": LOCATION},
        422: problem("`validation_failed`: malformed, or invalid holder and billing data."),
    },
    description="The holder and billing data are checked as an order's are (tax ids with "
    "their check digits, e-invoicing, PA data). A replaced holder is kept in "
    "`holder_history`.",
)
async def put_account(
    account_id: NewIdInPath, body: AccountIn, response: Response, caller: StaffCallerDep
) -> AccountOut:
    if body.billing is not None and body.holder is None:
        raise InvalidRequest([FieldError("holder", "holder_required")])
    view, created = await accounts.put_account(
        caller.container.unit_of_work(),
        body.to_domain(account_id),
        keep_holder=body.keeps_holder(),
        staff_id=caller.principal.subject,
        now=caller.now,
    )
    response.status_code = 201 if created else 200
    if created:
        response.headers["Location"] = f"/v1/admin/accounts/{account_id}"
    return AccountOut.of(view)


@router.get(
    "/accounts/{account_id}",
    operation_id="get_account",
    summary="A customer account, with its holder on file and the records it replaced",
    description="Staff only.",
    response_model=AccountOut,
    responses={404: problem("`account_not_found`.")},
)
async def get_account(account_id: IdInPath, caller: StaffCallerDep) -> AccountOut:
    if not is_identifier(account_id):
        raise ResourceNotFound("account", account_id)
    return AccountOut.of(await accounts.get_account(caller.container.unit_of_work(), account_id))
