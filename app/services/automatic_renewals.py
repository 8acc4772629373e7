"""The automatic renewal sweep: the service renews, by itself, what the customer asked it to.

For each mailbox with automatic renewal on (domain.md "Automatic renewal"):
- `notice_days` before the first charge, the holder is told it is coming;
- `lead_days` before expiry, a quote at the prices then in force (same plan and extra
  space, the recorded years, at most what a promotion allows) becomes an order placed on
  the customer's behalf, and the saved method is charged (Idempotency-Key: the order id);
  the order completes on the provider's signed webhook, like any other;
- a quote blocked by a rule is not charged: the holder is told what to fix, once;
- a declined charge (or no saved method) leaves the order awaiting payment, emails the
  holder a way to pay by transfer, tells a managing partner `payment.failed`, and is
  tried again 5, 3 and 1 days before expiry; the customer may pay or cancel by hand.
Each step is claimed as a milestone in the transaction that does it: with N workers it
happens once. The charge itself is made after that transaction commits (the provider's
webhook must find the order): should the process die in between, that attempt is lost
and the next one (two days later) charges with the same Idempotency-Key.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from app.domain.access import Principal, Role
from app.domain.automatic_renewal import (
    BLOCKED,
    ORDERED,
    Schedule,
    Step,
    StepKind,
    renewal_years,
)
from app.domain.calendar import italian_date
from app.domain.errors import DomainError, InvalidRequest
from app.domain.holder_record import HolderRecord
from app.domain.mailbox import Mailbox
from app.domain.money import Money
from app.domain.order import Consents, OrderRequest, OrderStatus, PaymentMethod
from app.domain.order_aggregate import Order
from app.domain.payment_instructions import PaymentAccounts, payment_instructions
from app.domain.quote import RenewalItem, RenewalRequest, quote_renewal
from app.domain.quote_record import QuoteRecord
from app.domain.saved_payment_method import SavedPaymentMethod
from app.services.confirmation_email import EMAIL, render_message
from app.services.order_placement import place_from_quote
from app.services.partner_events import notify_partner
from app.services.payment_charger import Charge, ChargeResult, PaymentCharger
from app.services.unit_of_work import UnitOfWorkProtocol, UowFactory

log = logging.getLogger("app.automatic_renewals")
BATCH = 200  # mailboxes per step and pass: the next pass takes the rest
Describe = Callable[[str, str, Mapping[str, Any]], str]  # issue code, language → text


@dataclass(frozen=True, slots=True)
class AutoRenewalSetup:
    """What the sweep needs beyond storage: set by the worker from settings."""

    charger: PaymentCharger | None  # None: nothing can be charged (no provider key)
    accounts: PaymentAccounts  # the transfer details offered when a charge fails
    consents_version: str
    describe: Describe  # an issue as the holder reads it
    schedule: Schedule = field(default_factory=Schedule)


@dataclass(frozen=True, slots=True)
class _Due:
    """A charge to make once the transaction that decided it has committed."""

    mailbox: Mailbox
    order: Order
    method: SavedPaymentMethod | None
    milestone: str
    language: str
    holder: HolderRecord | None


async def renew_automatically(
    uow_factory: UowFactory, setup: AutoRenewalSetup, now: datetime
) -> int:
    """One pass: every step due today, each once; how many were taken."""
    today = italian_date(now)
    done = 0
    for step, first, last in setup.schedule.windows(today):
        async with uow_factory() as uow:
            due = await uow.mailboxes.auto_renewing_without(first, last, step.milestone, BATCH)
        for mailbox in due:
            try:
                done += await _take_step(uow_factory, setup, step, mailbox, now)
            except Exception:  # one mailbox's failure must not stop the others
                log.exception("automatic renewal step failed", extra={"mailbox": mailbox.id})
    return done


async def _take_step(
    uow_factory: UowFactory, setup: AutoRenewalSetup, step: Step, mailbox: Mailbox, now: datetime
) -> int:
    if step.kind is StepKind.NOTICE:
        return await _notice(uow_factory(), setup, step, mailbox, now)
    due = await _order(uow_factory(), setup, step, mailbox, now)
    if due is None:
        return 1
    result = await _charge(setup.charger, due)
    if not result.approved:
        await _declined(uow_factory(), setup, due, result, now)
    return 1


async def _notice(
    uow: UnitOfWorkProtocol, setup: AutoRenewalSetup, step: Step, mailbox: Mailbox, now: datetime
) -> int:
    async with uow:
        if not await uow.milestones.claim(mailbox.id, mailbox.expires_on, step.milestone, now):
            return 0
        holder, language = await _holder_of(uow, mailbox)
        if holder is not None:
            charge_on = mailbox.expires_on - timedelta(days=setup.schedule.lead_days)
            context = {
                **_about(mailbox, holder),
                "charge_on": _day(max(charge_on, italian_date(now))),
                "years": mailbox.auto_renewal_years,
            }
            message = render_message("auto_renewal_notice", language, holder.holder.email, context)
            key = f"auto-renewal-notice:{mailbox.id}:{mailbox.expires_on}"
            await uow.outbox.add(EMAIL, key, _about_mailbox(message, mailbox), now)
        await uow.commit()
    return 1


async def _order(
    uow: UnitOfWorkProtocol, setup: AutoRenewalSetup, step: Step, mailbox: Mailbox, now: datetime
) -> _Due | None:
    """Claim the attempt; find or place the renewal order. A charge to make, or None."""
    async with uow:
        if not await uow.milestones.claim(mailbox.id, mailbox.expires_on, step.milestone, now):
            return None
        current = await uow.mailboxes.get(mailbox.id)
        if current is None or not current.auto_renewal or current.expires_on != mailbox.expires_on:
            await uow.commit()  # renewed, or turned off, since it was listed: nothing to do
            return None
        mailbox = current
        holder, language = await _holder_of(uow, mailbox)
        methods = await uow.saved_methods.of_account(mailbox.account_id)
        method = methods[0] if methods else None
        order = await _renewal_order(uow, setup, mailbox, method, holder, language, now)
        await uow.commit()
    if order is None or order.status is not OrderStatus.AWAITING_PAYMENT:
        return None
    return _Due(mailbox, order, method, step.milestone, language, holder)


async def _renewal_order(
    uow: UnitOfWorkProtocol,
    setup: AutoRenewalSetup,
    mailbox: Mailbox,
    method: SavedPaymentMethod | None,
    holder: HolderRecord | None,
    language: str,
    now: datetime,
) -> Order | None:
    """The automatic order of this expiry: the pending one, or a new one. None when
    there is nothing to charge (blocked, cancelled by the customer, or not ours)."""
    pending = await uow.orders.pending_order_of(mailbox.id)
    if pending is not None:
        order = await uow.orders.load(pending.order_id)
        return order if order is not None and order.placed_automatically else None
    if ORDERED in await uow.milestones.reached(mailbox.id, mailbox.expires_on):
        return None  # cancelled or closed since: the customer decides now
    problems = await _place(uow, setup, mailbox, method, now)
    if isinstance(problems, Order):
        await uow.milestones.claim(mailbox.id, mailbox.expires_on, ORDERED, now)
        return problems
    if holder is not None and await uow.milestones.claim(
        mailbox.id, mailbox.expires_on, BLOCKED, now
    ):
        context = {
            **_about(mailbox, holder),
            "problems": [setup.describe(code, language, params) for code, params in problems],
        }
        message = render_message("auto_renewal_blocked", language, holder.holder.email, context)
        key = f"auto-renewal-blocked:{mailbox.id}:{mailbox.expires_on}"
        await uow.outbox.add(EMAIL, key, _about_mailbox(message, mailbox), now)
    log.info("automatic renewal blocked", extra={"mailbox": mailbox.id, "problems": problems})
    return None


async def _place(
    uow: UnitOfWorkProtocol,
    setup: AutoRenewalSetup,
    mailbox: Mailbox,
    method: SavedPaymentMethod | None,
    now: datetime,
) -> Order | list[tuple[str, dict[str, Any]]]:
    """Quote at today's prices and place the order; or what stands in the way."""
    in_force = await uow.catalog.in_force(now)
    if in_force is None:
        return [("plan_not_in_price_list", {})]
    price_list = in_force.price_list
    promotion = price_list.active_promotion(mailbox.plan_code, italian_date(now))
    years = renewal_years(mailbox.auto_renewal_years, promotion)
    request = RenewalRequest(years, (RenewalItem(mailbox.id),))
    owner = Principal(Role.CUSTOMER, mailbox.account_id)
    try:
        quote = quote_renewal(request, {mailbox.id: mailbox}, price_list, now, automatic=True)
        if quote.blocked:
            return [(i.code, i.params()) for item in quote.items for i in item.blocking_issues]
        record = QuoteRecord(f"quo_{uuid.uuid4().hex}", owner, quote)
        await uow.quotes.add(record, None)
        order_request = OrderRequest(
            quote_id=record.id,
            holder=None,  # the holder and billing on file
            billing=None,
            payment_method=PaymentMethod(method.kind) if method else PaymentMethod.CARD,
            # Given with the automatic renewal the customer chose, under today's texts.
            consents=Consents(True, True, True, setup.consents_version),
            automatic_renewal=True,
            placed_automatically=True,
        )
        key = f"auto-renewal:{mailbox.id}:{mailbox.expires_on}"
        language = await uow.accounts.language_of(owner.subject) or "it"
        return await place_from_quote(
            uow, owner, order_request, quote, now, language, setup.accounts, key
        )
    except InvalidRequest as exc:
        return [(error.code, dict(error.params)) for error in exc.errors]
    except DomainError as exc:
        return [(exc.code, {})]


async def _charge(charger: PaymentCharger | None, due: _Due) -> ChargeResult:
    if due.method is None:
        return ChargeResult(False, "no_saved_method")
    if charger is None:
        return ChargeResult(False, "no_charger")
    order = due.order
    charge = Charge(
        order.id,
        order.number,
        order.payable_cents,
        order.currency,
        due.method.customer_ref,
        due.method.method_ref,
    )
    try:
        return await charger.charge(charge)
    except Exception as exc:  # an adapter's bug must not stop the holder being told
        log.exception("automatic charge failed", extra={"order": order.id})
        return ChargeResult(False, type(exc).__name__)


async def _declined(
    uow: UnitOfWorkProtocol, setup: AutoRenewalSetup, due: _Due, result: ChargeResult, now: datetime
) -> None:
    """The order stays awaiting payment: the holder is offered a transfer, a managing
    partner hears `payment.failed`; the next attempt comes at the next milestone."""
    order, mailbox = due.order, due.mailbox
    log.info("automatic charge declined", extra={"order": order.id, "reason": result.reason})
    async with uow:
        if due.holder is not None:
            transfer = payment_instructions(
                PaymentMethod.BANK_TRANSFER,
                order.id,
                order.number,
                order.payable_cents,
                order.currency,
                setup.accounts,
            )
            context = {
                **_about(mailbox, due.holder),
                "number": order.number,
                "payable": str(Money(order.payable_cents, order.currency).amount)
                + f" {order.currency}",
                "iban": transfer.iban,
                "beneficiary": transfer.beneficiary,
                "description": transfer.description,
                "no_saved_method": due.method is None,
            }
            message = render_message(
                "auto_renewal_declined", due.language, due.holder.holder.email, context
            )
            key = f"auto-renewal-declined:{order.id}:{due.milestone}"
            await uow.outbox.add(EMAIL, key, _about_mailbox(message, mailbox), now)
        if mailbox.partner_id is not None:
            data = {
                "order_id": order.id,
                "mailbox_id": mailbox.id,
                "reason": result.reason,
                "amount": str(Money(order.payable_cents, order.currency).amount),
                "currency": order.currency,
            }
            key = f"{order.id}:{due.milestone}"
            await notify_partner(uow, mailbox.partner_id, "payment.failed", key, data, now)
        await uow.commit()


async def _holder_of(uow: UnitOfWorkProtocol, mailbox: Mailbox) -> tuple[HolderRecord | None, str]:
    on_file = (await uow.holders.on_file([mailbox.id])).get(mailbox.id)
    language = await uow.accounts.language_of(mailbox.account_id) or "it"
    return (on_file.record if on_file else None), language


def _about(mailbox: Mailbox, holder: HolderRecord) -> dict[str, Any]:
    return {
        "address": mailbox.address,
        "holder_name": holder.holder.name,
        "expires_on": _day(mailbox.expires_on),
    }


def _day(day: date) -> str:
    return day.strftime("%d/%m/%Y")


def _about_mailbox(message: dict[str, str], mailbox: Mailbox) -> dict[str, str]:
    """The email as the outbox keeps it, naming its mailbox: the sandbox's message log
    (GET /v1/sandbox/messages) finds a mailbox's emails by it."""
    return {**message, "mailbox_id": mailbox.id}
