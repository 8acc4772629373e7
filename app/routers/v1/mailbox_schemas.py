"""Mailboxes as the frontend sees them, and the staff mirror that feeds them."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from pydantic.config import JsonDict

from app.domain.holder_record import HolderRecord
from app.domain.mailbox import Mailbox, MailboxStatus
from app.domain.plan_change import ScheduledChange
from app.routers.v1.fields import (
    DATE_IN_RANGE,
    Code,
    ExtraGigabytes,
    Identifier,
    UsedMegabytes,
    Years,
)
from app.routers.v1.holder_schemas import (
    HOLDER_IN_EXAMPLE,
    BillingIn,
    HolderIn,
    HolderOnFileOut,
    record_of,
)
from app.routers.v1.issue_schema import IssueOut
from app.routers.v1.renewal_mode_schemas import RenewalModeOut
from app.services.mailboxes import MailboxView

# The sandbox's mbx-premium on 2026-11-25 (checked by tests/api/test_openapi_examples_api.py).
MAILBOX_OUT_EXAMPLE: JsonDict = {
    "id": "mbx-premium",
    "address": "premium@pec.example.it",
    "plan": "PREMIUM",
    "extra_mailbox_gb": 0,
    "extra_archive_gb": 0,
    "used_mailbox_mb": 1500,
    "used_archive_mb": 5000,
    "expires_on": "2027-01-24",
    "status": "ACTIVE",
    "auto_renewal": False,
    "auto_renewal_years": 1,
    "account_id": "acc-rossi",
    "partner_id": None,
    "renewable": True,
    "renewal_blockers": [],
    "holder_on_file": {
        "holder": HOLDER_IN_EXAMPLE,
        "billing": {"e_invoicing": None, "public_administration": None},
        "source": "account",
    },
    "scheduled_change": None,
}
# The same mailbox once automatic renewal is on (PUT …/auto-renewal).
AUTO_RENEWING_MAILBOX_EXAMPLE: JsonDict = {
    **MAILBOX_OUT_EXAMPLE,
    "auto_renewal": True,
    "renewable": False,
    "renewal_blockers": [
        {
            "code": "auto_renewal_active",
            "blocking": True,
            "message": "La casella ha il rinnovo automatico attivo: disattivalo prima di "
            "rinnovare.",
        }
    ],
}


def _absent(value: object) -> bool:
    return value is None  # a member only some callers get is left out for the others


class ScheduledChangeOut(BaseModel):
    """A paid downgrade waiting for the mailbox's expiry: what it becomes, and when."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "plan": "STANDARD",
                    "extra_mailbox_gb": 1,
                    "extra_archive_gb": 0,
                    "deletes_archive": True,
                    "effective_on": "2027-01-25",
                    "order_id": "ord_7a3e5c1b9d2f4e6a8c0b1d3f5a7c9e1b",
                }
            ]
        }
    )

    plan: str = Field(description="The plan's `code` it moves to.")
    extra_mailbox_gb: int = Field(description="Extra mailbox space from then, GB.")
    extra_archive_gb: int = Field(description="Extra archive space from then, GB.")
    deletes_archive: bool = Field(
        description="true: the security archive and all archived messages are deleted then."
    )
    effective_on: date = Field(
        description="The day it takes effect (ISO date): the day after the expiry the "
        "customer had paid for when ordering."
    )
    order_id: str = Field(description="The order that bought it.")

    @classmethod
    def of(cls, change: ScheduledChange) -> ScheduledChangeOut:
        return cls(
            plan=change.plan_code,
            extra_mailbox_gb=change.extra_mailbox_gb,
            extra_archive_gb=change.extra_archive_gb,
            deletes_archive=change.deletes_archive,
            effective_on=change.effective_on,
            order_id=change.order_id,
        )


class MailboxOut(BaseModel):
    """A PEC mailbox: its plan and space, its expiry, and whether it can be renewed now."""

    model_config = ConfigDict(json_schema_extra={"examples": [MAILBOX_OUT_EXAMPLE]})

    id: str = Field(description="The mailbox's id (the mail platform's).")
    address: str = Field(description="The PEC address.", examples=["premium@pec.example.it"])
    plan: str = Field(description="Its plan's `code` (see `GET /v1/plans`).")
    extra_mailbox_gb: int = Field(description="Extra mailbox space bought, GB.")
    extra_archive_gb: int = Field(description="Extra archive space bought, GB.")
    used_mailbox_mb: int = Field(description="Mailbox space in use, MB.")
    used_archive_mb: int = Field(description="Archive space in use, MB.")
    expires_on: date = Field(description="The day it expires (ISO date).")
    status: MailboxStatus = Field(
        description="`ACTIVE`; `EXPIRED` (in the 90-day grace: still renewable); `DELETED` "
        "(past the grace); `SUSPENDED` (a partner's lapsed domain)."
    )
    auto_renewal: bool = Field(
        description="true: renewed automatically at expiry (then not by hand)."
    )
    auto_renewal_years: int = Field(description="Years each automatic renewal buys.")
    account_id: str = Field(description="The customer account that owns it.")
    partner_id: str | None = Field(description="The partner that manages it; null: none.")
    renewable: bool = Field(description='Show the "Rinnova" button.')
    renewal_blockers: list[IssueOut] = Field(description="Why it can't be renewed now.")
    holder_on_file: HolderOnFileOut | None = Field(
        description="The holder and billing data an order without a holder uses: show them "
        "for confirmation (null: none on file, the order must give them)."
    )
    renewal_mode: RenewalModeOut | None = Field(
        default=None,
        exclude_if=_absent,
        description="Partners only: how you renew this mailbox (`tacit` or `at_expiry`), as "
        "`GET /v1/partner/mailboxes/{id}/renewal-mode` shows it; absent for other callers.",
    )
    scheduled_change: ScheduledChangeOut | None = Field(
        description="A paid downgrade waiting for its day (the mailbox keeps its plan, "
        "space and archive until then); null: none."
    )

    @classmethod
    def of(cls, view: MailboxView, language: str) -> MailboxOut:
        m = view.mailbox
        return cls(
            id=m.id,
            address=m.address,
            plan=m.plan_code,
            extra_mailbox_gb=m.extra_mailbox_gb,
            extra_archive_gb=m.extra_archive_gb,
            used_mailbox_mb=m.used_mailbox_mb,
            used_archive_mb=m.used_archive_mb,
            expires_on=m.expires_on,
            status=view.status,
            auto_renewal=m.auto_renewal,
            auto_renewal_years=m.auto_renewal_years,
            account_id=m.account_id,
            partner_id=m.partner_id,
            renewable=view.renewable,
            renewal_blockers=[IssueOut.of(i, language) for i in view.blockers],
            holder_on_file=(
                HolderOnFileOut.of_file(view.holder_on_file) if view.holder_on_file else None
            ),
            renewal_mode=(
                RenewalModeOut.of_mode(m.id, m.expires_on, view.renewal_mode)
                if view.renewal_mode
                else None
            ),
            scheduled_change=(
                ScheduledChangeOut.of(view.scheduled_change) if view.scheduled_change else None
            ),
        )


# `GET /v1/mailboxes?status=ACTIVE&limit=1&cursor=…` past the sandbox's mbx-standard.
MAILBOX_PAGE_EXAMPLE: JsonDict = {
    "items": [MAILBOX_OUT_EXAMPLE],
    "next_cursor": "MjAyNy0wMS0yNHxtYngtcHJlbWl1bQ==",
}


class MailboxPageOut(BaseModel):
    """A page of mailboxes, soonest expiry first."""

    model_config = ConfigDict(json_schema_extra={"examples": [MAILBOX_PAGE_EXAMPLE]})

    items: list[MailboxOut] = Field(description="Up to `limit` mailboxes.")
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null: this is the last page."
    )


# The sandbox's mbx-premium as the mail platform sends it.
MAILBOX_MIRROR_EXAMPLE: JsonDict = {
    "address": "premium@pec.example.it",
    "plan": "PREMIUM",
    "extra_mailbox_gb": 0,
    "extra_archive_gb": 0,
    "used_mailbox_mb": 1500,
    "used_archive_mb": 5000,
    "expires_on": "2027-01-24",
    "status": "ACTIVE",
    "account_id": "acc-rossi",
    "partner_id": None,
}


class MailboxMirrorIn(BaseModel):
    """The mail platform's record of a mailbox, as staff or the platform send it."""

    model_config = ConfigDict(
        strict=True, extra="forbid", json_schema_extra={"examples": [MAILBOX_MIRROR_EXAMPLE]}
    )

    address: Annotated[
        str, StringConstraints(max_length=320, pattern=r"^[!-?A-~]+@[!-?A-~]+\.[!-?A-~]+$")
    ] = Field(description="The PEC address (ASCII, stored lower-case).")
    plan: Code = Field(
        description="The plan's `code`: one of the price list in force (422 `unknown_plan` "
        "otherwise).",
        examples=["PREMIUM"],
    )
    extra_mailbox_gb: ExtraGigabytes = Field(
        default=0, description="Extra mailbox space bought, GB (0–1000)."
    )
    extra_archive_gb: ExtraGigabytes = Field(
        default=0, description="Extra archive space bought, GB (0–1000)."
    )
    used_mailbox_mb: UsedMegabytes = Field(
        default=0, description="Mailbox space in use, MB (0–10,000,000)."
    )
    used_archive_mb: UsedMegabytes = Field(
        default=0, description="Archive space in use, MB (0–10,000,000)."
    )
    # ISO date strings are dates; the bounds keep date arithmetic (grace, +5 years) safe.
    expires_on: date = Field(
        strict=False,
        ge=date(2000, 1, 1),
        le=date(2199, 12, 31),
        json_schema_extra=DATE_IN_RANGE,
        description="The day the mailbox expires (2000-01-01 to 2199-12-31).",
    )
    status: MailboxStatus = Field(
        default=MailboxStatus.ACTIVE,
        strict=False,
        description="The platform's status: `ACTIVE`, `EXPIRED`, `DELETED` or `SUSPENDED`.",
    )
    # Automatic renewal is this service's own setting: left out, it is kept as it is.
    auto_renewal: bool | None = Field(
        default=None,
        description="Automatic renewal on or off; omitted or null: kept as it is (off for "
        "a new mailbox).",
    )
    auto_renewal_years: Years | None = Field(
        default=None,
        description="Years each automatic renewal buys (1–5); omitted or null: kept (1 for "
        "a new mailbox).",
    )
    account_id: Identifier = Field(
        description="The owning customer account's id: it must exist (422 `unknown_owner` "
        "otherwise, with `create_with`).",
        examples=["acc-rossi"],
    )
    partner_id: Identifier | None = Field(
        default=None,
        description="The managing partner's id, which must exist; omitted or null: none.",
        examples=["ptn-webreseller"],
    )
    # The mailbox's own holder, where it differs from its account's. This service's own
    # data, like automatic renewal: left out, it is kept; null, the account's applies.
    holder: HolderIn | None = Field(
        None, description="The mailbox's own holder (null: its account's; omitted: unchanged)."
    )
    billing: BillingIn | None = Field(None, description="The own holder's billing data.")

    def holder_given(self) -> bool:
        return "holder" in self.model_fields_set or "billing" in self.model_fields_set

    def holder_record(self) -> HolderRecord | None:
        return record_of(self.holder, self.billing)

    def to_domain(self, mailbox_id: str) -> Mailbox:
        return Mailbox(
            id=mailbox_id,
            address=self.address.lower(),
            plan_code=self.plan,
            extra_mailbox_gb=self.extra_mailbox_gb,
            extra_archive_gb=self.extra_archive_gb,
            used_mailbox_mb=self.used_mailbox_mb,
            used_archive_mb=self.used_archive_mb,
            expires_on=self.expires_on,
            status=self.status,
            auto_renewal=bool(self.auto_renewal),
            account_id=self.account_id,
            partner_id=self.partner_id,
            auto_renewal_years=self.auto_renewal_years or 1,
        )


class AutoRenewalIn(BaseModel):
    """Automatic renewal on or off, and for how many years each time."""

    model_config = ConfigDict(
        strict=True, extra="forbid", json_schema_extra={"examples": [{"enabled": True, "years": 1}]}
    )

    enabled: bool = Field(description="true: renew automatically at expiry; false: renew by hand.")
    years: Years | None = Field(
        default=None,
        description="Years each automatic renewal buys (1–5); omitted or null: unchanged.",
    )


class HealthOut(BaseModel):
    """The service's state, for an orchestrator's probes."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"status": "ok", "checked_at": "2026-11-25T10:00:00Z"}]}
    )

    status: str = Field(description="`ok` (anything else is an error answer).", examples=["ok"])
    checked_at: datetime | None = Field(
        default=None,
        description="`/readyz`: when the database answered (UTC); `/healthz`: null.",
    )
