"""Partners' tacit renewals: from the partner's credit, 7 days before expiry, by itself.

For a mailbox in tacit mode the sweep quotes the renewal at the prices then in force
(same plan and extra space, the recorded years, promotions respected) and places the
order through the same path as an order over HTTP (order_placement.place_from_quote):
holder and billing on file, paid from the credit, fulfilled at once; the partner hears
`renewal.completed` from the fulfilment. A renewal that can't be done today (credit
short, quote blocked, no holder on file) leaves no order behind: the partner is told
(`payment.failed` and an email) and it is tried again the next day, until the expiry day.

Milestones make each step happen once whatever the number of workers: `tacit_renewed`
per expiry (with the expiry moving on, the mailbox leaves the window), and
`tacit_attempt:<day>` per day that waited. Two sweeps renewing one mailbox at once
serialize on its hold (pending_renewals): the second finds it renewed and stops.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from app.domain.access import Principal, Role, pending_order_seen_by
from app.domain.calendar import italian_date
from app.domain.errors import DomainError
from app.domain.mailbox import Mailbox
from app.domain.money import Money
from app.domain.order import (
    Consents,
    InsufficientCredit,
    OrderRequest,
    PaymentMethod,
    PendingOrderConflict,
    QuoteAlreadyOrdered,
    QuoteExpired,
)
from app.domain.payment_instructions import PaymentAccounts
from app.domain.quote import RenewalItem, RenewalRequest, quote_renewal
from app.domain.quote_record import QuoteRecord
from app.domain.renewal_mode import (
    TACIT_CONSENTS_VERSION,
    TACIT_RENEWED,
    attempt_milestone,
    next_attempt_on,
    tacit_due,
)
from app.services.confirmation_email import EMAIL
from app.services.credit_alerts import money_data
from app.services.order_placement import place_from_quote
from app.services.partner_emails import tacit_waiting_email
from app.services.partner_events import notify_partner
from app.services.unit_of_work import UnitOfWorkProtocol, UowFactory

if TYPE_CHECKING:
    from app.services.sweeps import SweepContext

log = logging.getLogger("app.tacit_renewals")
BATCH = 100
# A partner-credit order's payment instructions name no bank or postal account.
CREDIT_ONLY = PaymentAccounts(iban="", beneficiary="", postal_account="", card_payment_url="")
TACIT_CONSENTS = Consents(True, True, True, TACIT_CONSENTS_VERSION)
# Another sweep (or the partner by hand) renewed the mailbox meanwhile.
_RENEWED_MEANWHILE = (QuoteExpired, QuoteAlreadyOrdered, PendingOrderConflict)


class TacitOutcome(StrEnum):
    RENEWED = "renewed"
    WAITING = "waiting"  # not today: the partner was told, tomorrow it is tried again
    SKIPPED = "skipped"  # not due, done already, or someone else is on it


@dataclass(frozen=True, slots=True)
class Waiting:
    """Why a tacit renewal was not done today."""

    reason: str  # insufficient_credit | quote_blocked | holder_required | …
    needed_cents: int | None = None
    available_cents: int | None = None
    issues: list[str] = field(default_factory=list)


async def tacit_renewals(context: SweepContext) -> int:
    """The sweep: every tacit renewal due today, one transaction each."""
    today = italian_date(context.now)
    async with context.uow_factory() as uow:
        due = await uow.renewal_modes.due_tacit(today, BATCH)
    done = 0
    for mailbox_id in due:
        outcome = await renew_tacitly(context.uow_factory, mailbox_id, context.now)
        done += outcome is not TacitOutcome.SKIPPED
    return done


async def renew_tacitly(uow_factory: UowFactory, mailbox_id: str, now: datetime) -> TacitOutcome:
    """Renew one mailbox tacitly if it is due, or record that it waits."""
    try:
        async with uow_factory() as uow:
            attempt = await _attempt(uow, mailbox_id, now)
    except InsufficientCredit as short:  # rolled back: no order, no quote, no debit
        attempt = Waiting("insufficient_credit", short.needed_cents, short.available_cents)
    except _RENEWED_MEANWHILE:
        return TacitOutcome.SKIPPED
    except DomainError as refused:  # holder_required, invalid billing on file…
        attempt = Waiting(refused.code)
    if isinstance(attempt, Waiting):
        return await _wait(uow_factory, mailbox_id, now, attempt)
    return attempt


async def _attempt(
    uow: UnitOfWorkProtocol, mailbox_id: str, now: datetime
) -> TacitOutcome | Waiting:
    today = italian_date(now)
    mailbox = await _due(uow, mailbox_id, today)
    in_force = await uow.catalog.in_force(now)
    if mailbox is None or mailbox.partner_id is None or in_force is None:
        return TacitOutcome.SKIPPED
    partner = await uow.partners.get(mailbox.partner_id)
    mode = (await uow.renewal_modes.of(mailbox.partner_id, [mailbox.id]))[mailbox.id]
    if partner is None:
        return TacitOutcome.SKIPPED
    principal = Principal(Role.PARTNER, mailbox.partner_id)
    pending = await uow.mailboxes.pending_orders([mailbox.id])
    seen = {mid: pending_order_seen_by(principal, order) for mid, order in pending.items()}
    request = RenewalRequest(mode.years, (RenewalItem(mailbox.id),))
    quote = quote_renewal(request, {mailbox.id: mailbox}, in_force.price_list, now, seen)
    if quote.blocked:
        issues = [issue.code for item in quote.items for issue in item.blocking_issues]
        return Waiting("quote_blocked", issues=issues)
    record = QuoteRecord(f"quo_{uuid.uuid4().hex}", principal, quote, None)
    await uow.quotes.add(record, None)
    order_request = OrderRequest(
        record.id, None, None, PaymentMethod.PARTNER_CREDIT, TACIT_CONSENTS
    )
    order = await place_from_quote(
        uow, principal, order_request, quote, now, partner.profile.language, CREDIT_ONLY
    )
    if not await uow.milestones.claim(mailbox.id, mailbox.expires_on, TACIT_RENEWED, now):
        raise QuoteAlreadyOrdered(order.id)  # can't happen past the hold: roll it all back
    await uow.commit()
    log.info("tacit renewal", extra={"mailbox_id": mailbox.id, "order_id": order.id})
    return TacitOutcome.RENEWED


async def _due(uow: UnitOfWorkProtocol, mailbox_id: str, today: date) -> Mailbox | None:
    """The mailbox if a tacit renewal of it is due today and not done or tried yet."""
    mailbox = await uow.mailboxes.get(mailbox_id)
    if mailbox is None or mailbox.partner_id is None or not tacit_due(mailbox.expires_on, today):
        return None
    mode = (await uow.renewal_modes.of(mailbox.partner_id, [mailbox.id])).get(mailbox.id)
    if mode is None or not mode.tacit:
        return None
    reached = await uow.milestones.reached(mailbox.id, mailbox.expires_on)
    if TACIT_RENEWED in reached or attempt_milestone(today) in reached:
        return None
    return mailbox


async def _wait(
    uow_factory: UowFactory, mailbox_id: str, now: datetime, waiting: Waiting
) -> TacitOutcome:
    """Today's attempt is over: the partner is told, once a day."""
    today = italian_date(now)
    async with uow_factory() as uow:
        mailbox = await _due(uow, mailbox_id, today)
        if mailbox is None or mailbox.partner_id is None:
            return TacitOutcome.SKIPPED
        partner = await uow.partners.get(mailbox.partner_id)
        expiry = mailbox.expires_on
        if partner is None or not await uow.milestones.claim(
            mailbox.id, expiry, attempt_milestone(today), now
        ):
            return TacitOutcome.SKIPPED
        retry_on = next_attempt_on(expiry, today)
        key = f"tacit:{mailbox.id}:{expiry.isoformat()}:{today.isoformat()}"
        data = _payment_failed(mailbox, waiting, retry_on)
        await notify_partner(uow, partner.profile.id, "payment.failed", key, data, now)
        if partner.profile.email:
            message = tacit_waiting_email(
                partner.profile,
                address=mailbox.address,
                expires_on=expiry,
                reason=waiting.reason,
                needed=_money(waiting.needed_cents),
                available=_money(waiting.available_cents),
                issues=waiting.issues,
                retry_on=retry_on,
            )
            await uow.outbox.add(
                EMAIL, f"tacit-waiting:{mailbox.id}:{expiry}:{today}", message, now
            )
        await uow.commit()
    return TacitOutcome.WAITING


def _payment_failed(mailbox: Mailbox, waiting: Waiting, retry_on: date | None) -> dict[str, Any]:
    return {
        "mailbox_id": mailbox.id,
        "address": mailbox.address,
        "expires_on": mailbox.expires_on.isoformat(),
        "renewal": "tacit",
        "reason": waiting.reason,
        "needed": None if waiting.needed_cents is None else money_data(waiting.needed_cents),
        "available": (
            None if waiting.available_cents is None else money_data(waiting.available_cents)
        ),
        "issues": waiting.issues,
        "retry_on": None if retry_on is None else retry_on.isoformat(),
    }


def _money(cents: int | None) -> Money | None:
    return None if cents is None else Money(cents)
