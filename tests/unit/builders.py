"""Domain objects for unit tests: a plain renewable mailbox, changed where a test says."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from app.domain.mailbox import Mailbox, MailboxStatus


def mailbox(**changes: object) -> Mailbox:
    base = Mailbox(
        id="mbx-1",
        address="mario.rossi@pec.example.it",
        plan_code="STANDARD",
        extra_mailbox_gb=0,
        extra_archive_gb=0,
        used_mailbox_mb=300,
        used_archive_mb=0,
        expires_on=date(2026, 7, 31),
        status=MailboxStatus.ACTIVE,
        auto_renewal=False,
        account_id="acc-1",
    )
    return replace(base, **changes)  # type: ignore[arg-type]
