"""The low-credit alert: a partner is told when a debit takes its credit below the
threshold it set (domain.md, Partners).

Once per crossing: only the debit that takes the balance from at or above the threshold
to below it tells, in its own transaction; the following debits, still below, don't; a
top-up back above it and a later debit below it is a new crossing, told again.
"""

from __future__ import annotations

from datetime import datetime

from app.domain.money import Money
from app.domain.renewal_mode import crossed_below
from app.services.confirmation_email import EMAIL
from app.services.partner_emails import credit_low_email
from app.services.partner_events import notify_partner
from app.services.unit_of_work import UnitOfWorkProtocol


def money_data(cents: int) -> dict[str, str]:
    """Money in an event's data, as the API shows it."""
    return {"amount": str(Money(cents).amount), "currency": "EUR"}


async def after_debit(
    uow: UnitOfWorkProtocol,
    partner_id: str,
    before_cents: int,
    after_cents: int,
    cause: str,
    now: datetime,
) -> bool:
    """Tell the partner if this debit (`cause`: the order it paid) crossed its
    threshold; True when it did."""
    partner = await uow.partners.get(partner_id)
    if partner is None:
        return False
    profile = partner.profile
    threshold = profile.low_credit_threshold_cents
    if not crossed_below(before_cents, after_cents, threshold):
        return False
    data = {
        "balance": money_data(after_cents),
        "threshold": money_data(threshold),
        "order_id": cause,
    }
    await notify_partner(uow, partner_id, "credit.low", f"{partner_id}:{cause}", data, now)
    if profile.email:
        message = credit_low_email(profile, Money(after_cents), Money(threshold))
        await uow.outbox.add(EMAIL, f"credit-low:{partner_id}:{cause}", message, now)
    return True
