"""Emails to a partner (to the address staff set for it): a tacit renewal that waits,
a credit that fell below its threshold. The same notices go out as webhooks
(partner_events); the email reaches a person even before an endpoint is set up."""

from __future__ import annotations

from datetime import date
from typing import Any

from app.domain.money import Money
from app.domain.partner import PartnerProfile
from app.services.confirmation_email import LANGUAGES, _templates


def tacit_waiting_email(
    partner: PartnerProfile,
    *,
    address: str,
    expires_on: date,
    reason: str,
    needed: Money | None,
    available: Money | None,
    issues: list[str],
    retry_on: date | None,
) -> dict[str, str]:
    """A tacit renewal was not done today: why, and when it is tried again."""
    context = {
        "address": address,
        "expires_on": expires_on.isoformat(),
        "reason": reason,
        "needed": needed,
        "available": available,
        "issues": issues,
        "retry_on": retry_on.isoformat() if retry_on else None,
    }
    return _render(partner, "tacit_waiting", context)


def credit_low_email(partner: PartnerProfile, balance: Money, threshold: Money) -> dict[str, str]:
    return _render(partner, "credit_low", {"balance": balance, "threshold": threshold})


def _render(partner: PartnerProfile, name: str, context: dict[str, Any]) -> dict[str, str]:
    language = partner.language if partner.language in LANGUAGES else "it"
    context = {**context, "partner_name": partner.name}
    templates = _templates()
    subject = templates.get_template(f"{name}_subject.{language}.txt.j2").render(context)
    text = templates.get_template(f"{name}_body.{language}.txt.j2").render(context)
    return {"to": partner.email, "subject": subject.strip(), "text": text, "language": language}
