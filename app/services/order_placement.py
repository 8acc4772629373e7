"""Placing an order: from a valid, unblocked quote to an order awaiting payment.

One transaction: the order row (unique per Idempotency-Key and per quote), the hold on
each mailbox (one unpaid order per mailbox), the partner's credit debit where a partner
orders, and the confirmation email in the outbox. Any failure leaves nothing behind.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import asdict
from datetime import datetime
from typing import Any

from app.db.mappers import mailbox_from_row
from app.db.models import AccountRow, MailboxRow, OrderRow
from app.db.unit_of_work import UnitOfWork
from app.domain.access import Principal, Role, visible_order_id
from app.domain.calendar import italian_date
from app.domain.money import Money
from app.domain.order import (
    InsufficientCredit,
    OrderRequest,
    OrderStatus,
    PaymentMethod,
    PendingOrderConflict,
    QuoteAlreadyOrdered,
    QuoteExpired,
    check_order,
    order_amounts,
    order_number,
)
from app.domain.payment_instructions import PaymentAccounts, payment_instructions
from app.domain.quote import Quote
from app.domain.renewal_rules import eligibility_issues
from app.services.confirmation_email import EMAIL, confirmation_email
from app.services.errors import ResourceNotFound
from app.services.fulfilment import fulfil
from app.services.holder_on_file import with_holder_on_file
from app.services.idempotency import Answer, IdempotentRequest


async def place_order(
    uow: UnitOfWork,
    principal: Principal,
    request: OrderRequest,
    now: datetime,
    language: str,
    accounts: PaymentAccounts,
    keyed: IdempotentRequest,
    render: Callable[[OrderRow], tuple[int, dict[str, Any]]],
) -> Answer:
    """Place the order, or replay the first answer to the same Idempotency-Key;
    `render` turns the new order into the answer (stored before the commit)."""
    keyed.require_key()
    async with uow:
        earlier = await keyed.earlier_answer(uow, now)
        if earlier is not None:
            return earlier
        record = await uow.quotes.get_visible(principal, request.quote_id)
        if record is None:
            raise ResourceNotFound("quote", request.quote_id)
        quote = record.quote
        request = await with_holder_on_file(uow, request, (i.mailbox_id for i in quote.items))
        check_order(quote, request, principal.role, now)

        order_id = f"ord_{uuid.uuid4().hex}"
        language = await _language_of(uow, principal, language)
        values = _order_values(order_id, principal, request, quote, now, language)
        values |= {"idempotency_key": keyed.key, "request_hash": keyed.fingerprint}
        seq = await uow.orders.add(values)
        if seq is None:  # the quote is used (a duplicate key waited in earlier_answer)
            existing = await uow.orders.by_quote(request.quote_id)
            raise QuoteAlreadyOrdered(existing.id if existing else "")

        taken = await uow.orders.hold_mailboxes(order_id, [i.mailbox_id for i in quote.items])
        if taken is not None:
            holder = await uow.orders.pending_order_of(taken)
            shown = None if holder is None else visible_order_id(principal, holder)
            raise PendingOrderConflict(taken, shown)
        if not await _mailboxes_as_quoted(uow, quote, now):
            raise QuoteExpired(request.quote_id)
        if principal.role is Role.PARTNER:
            order = await uow.orders.get(order_id)  # attached: fulfilment changes it
            assert order is not None
            await _pay_from_credit(uow, principal, order, now)
        else:
            order = OrderRow(seq=seq, **values)  # as inserted: no need to read it back
        await uow.outbox.add(
            EMAIL, f"order-confirmation:{order_id}", _confirmation(order, accounts), now
        )
        answer = await keyed.first_answer(uow, *render(order))
        await uow.commit()
    return answer


async def _pay_from_credit(
    uow: UnitOfWork, principal: Principal, order: OrderRow, now: datetime
) -> None:
    """A partner's order is paid at once from its prepaid credit, or refused."""
    balance = await uow.orders.debit_credit(principal.subject, order.payable_cents)
    if balance is None:
        available = await uow.orders.credit_of(principal.subject) or 0
        raise InsufficientCredit(order.payable_cents, available)
    await uow.orders.record_credit_movement(
        {
            "partner_id": principal.subject,
            "kind": "order",
            "amount_cents": -order.payable_cents,
            "balance_after_cents": balance,
            "order_id": order.id,
            "created_at": now,
        }
    )
    await fulfil(uow, order, now, paid=True)


async def _mailboxes_as_quoted(uow: UnitOfWork, quote: Quote, now: datetime) -> bool:
    """The quote froze prices, not mailboxes: if one was renewed, deleted or switched to
    automatic renewal since, the quote no longer describes it (rules 2 and 4 again)."""
    today = italian_date(now)
    for item in sorted(quote.items, key=lambda item: item.mailbox_id):
        row = await uow.session.get(MailboxRow, item.mailbox_id, with_for_update=True)
        if row is None:
            return False
        mailbox = mailbox_from_row(row)
        if eligibility_issues(mailbox, today, pending_order=None) or (
            mailbox.expires_on != item.current_expiry or mailbox.plan_code != item.current_plan
        ):
            return False
    return True


async def _language_of(uow: UnitOfWork, principal: Principal, fallback: str) -> str:
    """Emails follow the account's preference; partners and staff get the request's."""
    if principal.role is Role.CUSTOMER:
        account = await uow.session.get(AccountRow, principal.subject)
        if account is not None:
            return account.language
    return fallback


def _order_values(
    order_id: str,
    principal: Principal,
    request: OrderRequest,
    quote: Quote,
    now: datetime,
    language: str,
) -> dict[str, Any]:
    holder = request.holder_record()
    amounts = order_amounts(quote, holder.billing)
    return {
        "id": order_id,
        "owner_role": principal.role.value,
        "owner_id": principal.subject,
        "quote_id": request.quote_id,
        "status": OrderStatus.AWAITING_PAYMENT.value,
        "payment_method": request.payment_method.value,
        "years": quote.years,
        "currency": quote.currency,
        "net_cents": amounts.net_cents,
        "vat_cents": amounts.vat_cents,
        "total_cents": amounts.total_cents,
        "payable_cents": amounts.payable_cents,
        "refunded_cents": 0,
        "language": language,
        "created_at": now,
        "document": {
            "holder": asdict(holder.holder),
            "billing": asdict(holder.billing),
            "holder_from_file": request.holder_from_file,
            "consents": {**asdict(request.consents), "accepted_at": now.isoformat()},
            "acknowledge_archive_deletion": request.acknowledge_archive_deletion,
            "items": [
                {
                    "mailbox_id": item.mailbox_id,
                    "address": item.address,
                    "current_plan": item.current_plan,
                    "target_plan": item.target_plan,
                    "extra_mailbox_gb": item.extra_mailbox_gb,
                    "extra_archive_gb": item.extra_archive_gb,
                    "deletes_archive": item.deletes_archive,
                    "quoted_new_expiry": item.new_expiry.isoformat(),
                }
                for item in quote.items
            ],
        },
    }


def _confirmation(order: OrderRow, accounts: PaymentAccounts) -> dict[str, str]:
    currency = order.currency
    number = order_number(order.seq, order.created_at)
    holder = order.document["holder"]
    public_administration = order.document["billing"].get("public_administration") or {}
    return confirmation_email(
        language=order.language,
        number=number,
        holder_name=holder["name"],
        to=holder["email"],
        years=order.years,
        items=order.document["items"],
        net=Money(order.net_cents, currency),
        vat=Money(order.vat_cents, currency),
        total=Money(order.total_cents, currency),
        payable=Money(order.payable_cents, currency),
        split_payment=bool(public_administration.get("split_payment")),
        public_administration=bool(public_administration),
        instructions=payment_instructions(
            PaymentMethod(order.payment_method),
            order.id,
            number,
            order.payable_cents,
            currency,
            accounts,
        ),
    )
