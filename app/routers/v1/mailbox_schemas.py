"""Mailboxes as the frontend sees them, and the staff mirror that feeds them."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from app.domain.holder_record import HolderRecord
from app.domain.mailbox import Mailbox, MailboxStatus
from app.routers.v1.fields import (
    DATE_IN_RANGE,
    Code,
    ExtraGigabytes,
    Identifier,
    UsedMegabytes,
    Years,
)
from app.routers.v1.holder_schemas import BillingIn, HolderIn, HolderOnFileOut, record_of
from app.routers.v1.issue_schema import IssueOut
from app.services.mailboxes import MailboxView


class MailboxOut(BaseModel):
    id: str
    address: str
    plan: str
    extra_mailbox_gb: int
    extra_archive_gb: int
    used_mailbox_mb: int
    used_archive_mb: int
    expires_on: date
    status: MailboxStatus
    auto_renewal: bool
    auto_renewal_years: int
    account_id: str
    partner_id: str | None
    renewable: bool = Field(description='Show the "Rinnova" button.')
    renewal_blockers: list[IssueOut] = Field(description="Why it can't be renewed now.")
    holder_on_file: HolderOnFileOut | None = Field(
        description="The holder and billing data an order without a holder uses: show them "
        "for confirmation (null: none on file, the order must give them)."
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
        )


class MailboxPageOut(BaseModel):
    items: list[MailboxOut]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page.")


class MailboxMirrorIn(BaseModel):
    """The mail platform's record of a mailbox, as staff or the platform send it."""

    model_config = ConfigDict(strict=True, extra="forbid")

    address: Annotated[
        str, StringConstraints(max_length=320, pattern=r"^[!-?A-~]+@[!-?A-~]+\.[!-?A-~]+$")
    ]
    plan: Code
    extra_mailbox_gb: ExtraGigabytes = 0
    extra_archive_gb: ExtraGigabytes = 0
    used_mailbox_mb: UsedMegabytes = 0
    used_archive_mb: UsedMegabytes = 0
    # ISO date strings are dates; the bounds keep date arithmetic (grace, +5 years) safe.
    expires_on: date = Field(
        strict=False,
        ge=date(2000, 1, 1),
        le=date(2199, 12, 31),
        json_schema_extra=DATE_IN_RANGE,
        description="The day the mailbox expires (2000-01-01 to 2199-12-31).",
    )
    status: MailboxStatus = Field(default=MailboxStatus.ACTIVE, strict=False)
    # Automatic renewal is this service's own setting: left out, it is kept as it is.
    auto_renewal: bool | None = None
    auto_renewal_years: Years | None = None
    account_id: Identifier
    partner_id: Identifier | None = None
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
    model_config = ConfigDict(strict=True, extra="forbid")

    enabled: bool
    years: Years | None = Field(default=None, description="Renewal frequency; default: unchanged.")


class HealthOut(BaseModel):
    status: str
    checked_at: datetime | None = None
