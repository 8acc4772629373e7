"""Customer accounts, for staff: create or replace one, with its holder on file."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter, Response
from pydantic import BaseModel, ConfigDict, Field

from app.domain.account import Account, HolderVersion
from app.domain.errors import FieldError, InvalidRequest
from app.routers.deps import StaffCallerDep
from app.routers.responses import LOCATION, problem
from app.routers.v1.fields import IdInPath, NewIdInPath, Text, is_identifier
from app.routers.v1.holder_schemas import (
    BillingIn,
    BillingOut,
    Email,
    HolderIn,
    HolderOut,
    HolderRecordOut,
    record_of,
)
from app.services import accounts
from app.services.accounts import AccountView
from app.services.errors import ResourceNotFound

router = APIRouter(prefix="/admin", tags=["admin"])


_ROSSI = {"name": "Mario Rossi", "email": "mario.rossi@example.it", "language": "it"}
_HOLDER = {
    "kind": "person",
    "name": "Mario Rossi",
    "tax_code": "RSSMRA85T10A562S",
    "email": "mario.rossi@example.it",
    "address": "Via Nazionale 12",
    "postal_code": "00184",
    "city": "Roma",
    "province": "RM",
    "country": "IT",
}
_BILLING = {
    "e_invoicing": {"sdi_code": None, "pec": "mario.rossi@pec.example.it", "none": False},
    "public_administration": None,
}
# acc-rossi of the sandbox, moved to a new address: the demo's record goes to the history.
ACCOUNT_EXAMPLE: dict[str, Any] = {**_ROSSI, "holder": _HOLDER, "billing": _BILLING}
ACCOUNT_OUT_EXAMPLE: dict[str, Any] = {
    "id": "acc-rossi",
    **_ROSSI,
    "holder_on_file": {"holder": _HOLDER, "billing": _BILLING},
    "holder_history": [
        {
            "holder": {
                **_HOLDER,
                "address": "Via Roma 1",
                "postal_code": "00100",
            },
            "billing": {"e_invoicing": None, "public_administration": None},
            "mailbox_id": None,
            "replaced_at": "2026-12-01T17:45:37.541343Z",
            "replaced_by": "staff:staff-helpdesk",
        }
    ],
    "updated_by": "staff-helpdesk",
    "updated_at": "2026-12-01T17:45:37.541343Z",
}


class AccountIn(BaseModel):
    model_config = ConfigDict(
        strict=True, extra="forbid", json_schema_extra={"examples": [ACCOUNT_EXAMPLE]}
    )

    name: Text = Field(description="The customer's name, as emails address it.")
    email: Email = Field(description="Where the account's emails go (stored lower-cased).")
    language: Literal["it", "en"] = Field(
        "it", description="The language of its emails (default `it`)."
    )
    holder: HolderIn | None = Field(
        None,
        description="The holder on file for its mailboxes, offered for confirmation at each "
        "renewal. Omitted: kept as it is; null: none on file.",
    )
    billing: BillingIn | None = Field(
        None,
        description="The holder's billing data (e-invoicing, public administration); needs "
        "`holder`. Omitted or null with a holder: no billing data.",
    )

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
    holder: HolderOut = Field(description="The holder as it was before being replaced.")
    billing: BillingOut = Field(description="Its billing data as it was.")
    mailbox_id: str | None = Field(
        description="The mailbox whose own record it was; null: the account's own record."
    )
    replaced_at: datetime = Field(description="When it was replaced (UTC).")
    replaced_by: str = Field(
        examples=["order:ord_54bf8a4244d240fcb1b09145879ae2e8", "staff:staff-helpdesk"],
        description="What replaced it: `order:<order id>` (a renewal) or `staff:<staff id>`.",
    )

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
    model_config = ConfigDict(json_schema_extra={"examples": [ACCOUNT_OUT_EXAMPLE]})

    id: str = Field(description="The account id (what a customer token names).")
    name: str = Field(description="The customer's name.")
    email: str = Field(description="Where the account's emails go, lower case.")
    language: str = Field(description="The language of its emails: `it` or `en`.")
    holder_on_file: HolderRecordOut | None = Field(
        description="The account's holder and billing data (null: none on file)."
    )
    holder_history: list[HolderVersionOut] = Field(
        description="Replaced holder records of the account and its mailboxes, newest first."
    )
    updated_by: str | None = Field(
        description="The staff member who last created or replaced it; null if never through "
        "this API."
    )
    updated_at: datetime | None = Field(
        description="When it was last created or replaced (UTC); null as `updated_by`."
    )

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
