"""A partner's renewal mode of a mailbox, as it reads and sets it."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from app.domain.renewal_mode import RenewalMode, RenewalModeKind, tacit_window
from app.routers.v1.fields import Years
from app.services.renewal_modes import MailboxRenewalMode

RENEWAL_MODE_EXAMPLE: dict[str, Any] = {
    "mailbox_id": "mbx-partner-standard",
    "mode": "tacit",
    "years": 1,
    "next_attempt_on": "2026-12-29",
    "updated_at": "2026-11-25T10:00:00Z",
}


class RenewalModeIn(BaseModel):
    """How a mailbox you manage is renewed."""

    model_config = ConfigDict(
        strict=True,
        extra="forbid",
        json_schema_extra={"examples": [{"mode": "tacit", "years": 1}]},
    )

    mode: RenewalModeKind = Field(
        strict=False,
        description="`tacit`: renewed automatically from your credit 7 days before expiry "
        "(same plan and extra space, `years` years); `at_expiry`: you renew it by hand.",
    )
    years: Years | None = Field(
        default=None,
        description="Years each tacit renewal buys (1–5; 1–2 while the plan is on "
        "promotion); omitted or null: unchanged (1 when never set).",
    )


class RenewalModeOut(BaseModel):
    """The renewal mode of a mailbox you manage."""

    model_config = ConfigDict(json_schema_extra={"examples": [RENEWAL_MODE_EXAMPLE]})

    mailbox_id: str = Field(description="The mailbox.")
    mode: RenewalModeKind = Field(description="`tacit` or `at_expiry` (the default).")
    years: int = Field(description="Years each tacit renewal buys.")
    next_attempt_on: date | None = Field(
        description="`tacit`: the first day the renewal of the current expiry is tried "
        "(7 days before it; retried daily until the expiry day); null for `at_expiry`."
    )
    updated_at: datetime | None = Field(description="When you set it; null: never (default).")

    @classmethod
    def of(cls, found: MailboxRenewalMode) -> RenewalModeOut:
        return cls.of_mode(found.mailbox.id, found.mailbox.expires_on, found.mode)

    @classmethod
    def of_mode(cls, mailbox_id: str, expires_on: date, mode: RenewalMode) -> RenewalModeOut:
        return cls(
            mailbox_id=mailbox_id,
            mode=mode.mode,
            years=mode.years,
            next_attempt_on=tacit_window(expires_on)[0] if mode.tacit else None,
            updated_at=mode.updated_at,
        )
