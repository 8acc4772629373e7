"""The lifecycle emails: reminders before and after the expiry, and the deletion notice.

Italian or English (the account's language), dates written the Italian way (25/12/2026)
in both: the holder reads them against Italian documents. Same template environment as
the order confirmation (app/services/confirmation_email.py).
"""

from __future__ import annotations

from datetime import date

from app.domain.lifecycle import (
    LifecycleMilestone,
    days_from_expiry,
    deletion_day,
    italian_format,
    last_renewable_day,
)
from app.services.confirmation_email import LANGUAGES, _templates


def stage_of(milestone: LifecycleMilestone) -> str:
    """Which wording a milestone takes: before, expiry, grace or deleted."""
    if milestone.is_deletion:
        return "deleted"
    if milestone.day < 0:
        return "before"
    return "expiry" if milestone.day == 0 else "grace"


def lifecycle_email(
    *,
    language: str,
    milestone: LifecycleMilestone,
    mailbox_id: str,
    address: str,
    expires_on: date,
    today: date,
    holder_name: str,
    to: str,
    order_pending: bool,
) -> dict[str, str]:
    """The message as the outbox stores it; `mailbox_id` and `milestone` let the sandbox
    log find it."""
    language = language if language in LANGUAGES else "it"
    context = {
        "stage": stage_of(milestone),
        "address": address,
        "holder_name": holder_name,
        "days": -days_from_expiry(expires_on, today),
        "expires_on": italian_format(expires_on),
        "today": italian_format(today),
        "last_renewable_day": italian_format(last_renewable_day(expires_on)),
        "deletion_day": italian_format(deletion_day(expires_on)),
        "order_pending": order_pending,
    }
    templates = _templates()
    subject = templates.get_template(f"lifecycle_subject.{language}.txt.j2").render(context)
    text = templates.get_template(f"lifecycle_body.{language}.txt.j2").render(context)
    return {
        "to": to,
        "subject": subject.strip(),
        "text": text,
        "language": language,
        "mailbox_id": mailbox_id,
        "milestone": milestone.name,
    }
