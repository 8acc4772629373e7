"""A mailbox as the renewal rules see it: a mirror of the mail platform's record."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

GRACE_DAYS = 90
_GRACE = timedelta(days=GRACE_DAYS)  # built once: every quoted mailbox asks


class MailboxStatus(StrEnum):
    ACTIVE = "ACTIVE"
    EXPIRED = "EXPIRED"
    DELETED = "DELETED"
    SUSPENDED = "SUSPENDED"


@dataclass(frozen=True, slots=True)
class Mailbox:
    id: str
    address: str
    plan_code: str
    extra_mailbox_gb: int
    extra_archive_gb: int
    used_mailbox_mb: int
    used_archive_mb: int
    expires_on: date
    status: MailboxStatus
    auto_renewal: bool
    account_id: str
    partner_id: str | None = None
    auto_renewal_years: int = 1


def effective_status(mailbox: Mailbox, today: date) -> MailboxStatus:
    """The status the dates prove: past expiry is EXPIRED, past the grace is DELETED.

    Dates only ever make a status worse: a stale mirror cannot revive a mailbox.
    """
    if mailbox.status is MailboxStatus.DELETED:
        return MailboxStatus.DELETED
    if today > mailbox.expires_on + _GRACE:
        return MailboxStatus.DELETED
    if mailbox.status is MailboxStatus.SUSPENDED:
        return MailboxStatus.SUSPENDED
    if today > mailbox.expires_on:
        return MailboxStatus.EXPIRED
    return mailbox.status
