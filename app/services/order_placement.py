"""Placing an order: from a valid, unblocked quote to an order awaiting payment.

One transaction: the order row (unique per Idempotency-Key and per quote), the hold on
each mailbox (one unpaid order per mailbox), the partner's credit debit where a partner
orders, and the confirmation email in the outbox. Any failure leaves nothing behind.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from contextlib import AbstractAsyncContextManager
from datetime import datetime
from typing import Any

from app.db.pg_order_in_one_write import OrderFacts, OrderInOneWrite
from app.domain.access import Principal, Role, visible_order_id
from app.domain.calendar import italian_date
from app.domain.errors import DomainError
from app.domain.holder_record import HolderOnFile
from app.domain.idempotency_identity import IdempotencyClaim
from app.domain.mailbox import Mailbox
from app.domain.money import Money
from app.domain.order import (
    InsufficientCredit,
    OrderRequest,
    PendingOrderConflict,
    QuoteAlreadyOrdered,
    QuoteExpired,
    check_order,
)
from app.domain.order_aggregate import Order
from app.domain.outgoing_message import OutgoingMessage
from app.domain.payment_instructions import PaymentAccounts, payment_instructions
from app.domain.quote import Quote
from app.domain.renewal_rules import eligibility_issues
from app.services import credit_alerts
from app.services.confirmation_email import EMAIL, confirmation_email
from app.services.errors import ResourceNotFound
from app.services.fulfilment import fulfil
from app.services.holder_on_file import with_holder_on_file, with_holder_read
from app.services.idempotency import Answer, IdempotentRequest
from app.services.unit_of_work import UnitOfWorkProtocol

OneWriteFactory = Callable[[], AbstractAsyncContextManager[OrderInOneWrite]]


async def place_order(
    uow: UnitOfWorkProtocol,
    principal: Principal,
    request: OrderRequest,
    now: datetime,
    language: str,
    accounts: PaymentAccounts,
    keyed: IdempotentRequest,
    render: Callable[[Order], tuple[int, dict[str, Any]]],
    in_one_write: OneWriteFactory | None = None,
) -> Answer:
    """Place the order, or replay the first answer to the same Idempotency-Key;
    `render` turns the new order into the answer (stored before the commit).

    A customer's order goes `in_one_write` where there is one (PostgreSQL): two round
    trips instead of five. Should anything move between them, it gives way to the
    transactional path below, which then decides: both answer alike."""
    keyed.require_key()
    if in_one_write is not None and principal.role is Role.CUSTOMER:
        placed = await _place_in_one_write(
            in_one_write, principal, request, now, language, accounts, keyed, render
        )
        if placed is not None:
            return placed
    async with uow:
        # The key claimed and the quote read in one step (one round trip on PostgreSQL).
        earlier, found = await uow.quotes.to_order_claiming(
            keyed.claim(now),
            principal,
            request.quote_id,
            # Emails follow a customer's account preference; partners and staff get the
            # request's language.
            language_of=principal.subject if principal.role is Role.CUSTOMER else None,
            with_holders=request.holder is None,
        )
        if earlier is not None:
            return keyed.replay(earlier)
        if found is None:
            raise ResourceNotFound("quote", request.quote_id)
        order, confirmation = await place_unconfirmed(
            uow,
            principal,
            request,
            found.record.quote,
            now,
            found.language or language,
            accounts,
            keyed.key,
            keyed.fingerprint or "",  # there is one: the key is required
            holders_on_file=found.holders_on_file,
        )
        # The answer stored and the confirmation queued in one write.
        answer = await keyed.first_answer_queueing(uow, *render(order), [confirmation], now)
        await uow.commit()
    return answer


async def _place_in_one_write(
    in_one_write: OneWriteFactory,
    principal: Principal,
    request: OrderRequest,
    now: datetime,
    language: str,
    accounts: PaymentAccounts,
    keyed: IdempotentRequest,
    render: Callable[[Order], tuple[int, dict[str, Any]]],
) -> Answer | None:
    """place_order's steps for a customer, read in one round trip and written in one
    (app/db/pg_order_in_one_write.py); None: the write gave way, nothing was written.

    A quote this process stored is not read for: its order is one round trip, the write
    (app/db/order_memory.py). Should that write give way, or the remembered facts refuse
    the order, the order is read for: a refusal, or an earlier answer to the key, is
    settled on what the database holds."""
    claim = keyed.claim(now)
    async with in_one_write() as one_write:
        # With a holder given: the holders on file are read only for an order without.
        given = request.holder is not None
        recalled = one_write.recall(principal, request.quote_id) if given else None
        if recalled is not None:
            try:
                placed = await _write_order(
                    one_write, recalled, principal, request, now, language, accounts, claim, render
                )
            except DomainError:
                placed = None
            if placed is not None:
                return placed
            one_write.unused(recalled)
        facts = await one_write.read(
            claim,
            principal,
            request.quote_id,
            language_of=principal.subject,
            with_holders=request.holder is None,
        )
        if facts.earlier is not None:
            return keyed.replay(facts.earlier)
        return await _write_order(
            one_write, facts, principal, request, now, language, accounts, claim, render
        )


async def _write_order(
    one_write: OrderInOneWrite,
    facts: OrderFacts,
    principal: Principal,
    request: OrderRequest,
    now: datetime,
    language: str,
    accounts: PaymentAccounts,
    claim: IdempotencyClaim,
    render: Callable[[Order], tuple[int, dict[str, Any]]],
) -> Answer | None:
    """The order `facts` describe, written in one statement; None: the write gave way
    (or the mailboxes no longer match the quote), nothing was written."""
    if facts.found is None:
        raise ResourceNotFound("quote", request.quote_id)
    quote = facts.found.record.quote
    request = with_holder_read(request, facts.found.holders_on_file or {})
    check_order(quote, request, principal.role, now)
    if not _mailboxes_as_quoted(
        quote, facts.mailboxes, now, automatic=request.placed_automatically
    ):
        return None  # the transactional path says so, with the mailboxes locked
    order_id = f"ord_{uuid.uuid4().hex}"
    order = Order.place(order_id, principal, request, quote, now, facts.found.language or language)
    order.seq = facts.seq  # reserved: the answer and email show the number
    status_code, body = render(order)
    confirmation = _confirmation(order, accounts)
    message = OutgoingMessage(EMAIL, f"order-confirmation:{order.id}", confirmation)
    written = await one_write.write(order, claim, (status_code, body), [message], facts)
    return Answer(status_code, body, replayed=False) if written else None


async def place_from_quote(
    uow: UnitOfWorkProtocol,
    principal: Principal,
    request: OrderRequest,
    quote: Quote,
    now: datetime,
    language: str,
    accounts: PaymentAccounts,
    idempotency_key: str | None = None,
) -> Order:
    """An order placed by a sweep, in the caller's transaction: the tacit-renewal sweep
    for a partner (app/services/tacit_renewals.py) or the automatic renewal for a
    customer (app/services/automatic_renewals.py), with its confirmation email queued.
    Over HTTP, place_order queues the email with its idempotent answer instead."""
    order, confirmation = await place_unconfirmed(
        uow, principal, request, quote, now, language, accounts, idempotency_key
    )
    await uow.outbox.add_many([confirmation], now)
    return order


async def place_unconfirmed(
    uow: UnitOfWorkProtocol,
    principal: Principal,
    request: OrderRequest,
    quote: Quote,
    now: datetime,
    language: str,
    accounts: PaymentAccounts,
    idempotency_key: str | None = None,
    fingerprint: str = "",
    holders_on_file: Mapping[str, HolderOnFile | None] | None = None,
) -> tuple[Order, OutgoingMessage]:
    """The one way an order is placed, in the caller's transaction, by HTTP or a sweep.

    The holder on file fills what the request omits (`holders_on_file`: when the caller
    read them already), the order is checked, stored and holds its mailboxes, and a
    partner's is paid from its credit at once (InsufficientCredit otherwise) and
    fulfilled. The confirmation email is returned for the caller to queue. Nothing is
    committed."""
    request = await with_holder_on_file(
        uow, request, (i.mailbox_id for i in quote.items), holders_on_file
    )
    check_order(quote, request, principal.role, now)
    order = Order.place(f"ord_{uuid.uuid4().hex}", principal, request, quote, now, language)
    seq, taken, mailboxes = await uow.orders.add_holding_and_locking(
        order, idempotency_key, fingerprint
    )
    if seq is None:  # the quote is used (a duplicate key waited in earlier_answer)
        raise QuoteAlreadyOrdered(await uow.orders.id_of_quote(request.quote_id) or "")
    order.seq = seq
    if taken is not None:
        holder = await uow.orders.pending_order_of(taken)
        shown = None if holder is None else visible_order_id(principal, holder)
        raise PendingOrderConflict(taken, shown)
    if not _mailboxes_as_quoted(quote, mailboxes, now, automatic=request.placed_automatically):
        raise QuoteExpired(request.quote_id)
    if principal.role is Role.PARTNER:
        await _pay_from_credit(uow, principal, order, mailboxes, now)
    confirmation = _confirmation(order, accounts)
    return order, OutgoingMessage(EMAIL, f"order-confirmation:{order.id}", confirmation)


async def _pay_from_credit(
    uow: UnitOfWorkProtocol,
    principal: Principal,
    order: Order,
    mailboxes: Mapping[str, Mailbox],
    now: datetime,
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
    await credit_alerts.after_debit(
        uow, principal.subject, balance + order.payable_cents, balance, order.id, now
    )
    await fulfil(uow, order, order.fulfil(mailboxes, now, paid=True), now)
    await uow.orders.save(order)


def _mailboxes_as_quoted(
    quote: Quote, mailboxes: Mapping[str, Mailbox], now: datetime, *, automatic: bool = False
) -> bool:
    """The quote froze prices, not mailboxes: if one was renewed, deleted or switched to
    automatic renewal since, the quote no longer describes it (rules 2 and 4 again)."""
    today = italian_date(now)
    for item in quote.items:
        mailbox = mailboxes.get(item.mailbox_id)
        if mailbox is None:
            return False
        if eligibility_issues(mailbox, today, pending_order=None, automatic=automatic) or (
            mailbox.expires_on != item.current_expiry or mailbox.plan_code != item.current_plan
        ):
            return False
    return True


def _confirmation(order: Order, accounts: PaymentAccounts) -> dict[str, Any]:
    currency = order.currency
    number = order.number
    holder = order.holder.holder
    return confirmation_email(
        language=order.language,
        number=number,
        holder_name=holder.name,
        to=holder.email,
        years=order.years,
        items=order.items,
        net=Money(order.amounts.net_cents, currency),
        vat=Money(order.amounts.vat_cents, currency),
        total=Money(order.amounts.total_cents, currency),
        payable=Money(order.payable_cents, currency),
        split_payment=order.split_payment,
        public_administration=order.holder.billing.public_administration is not None,
        placed_on=italian_date(order.created_at),
        instructions=payment_instructions(
            order.payment_method,
            order.id,
            number,
            order.payable_cents,
            currency,
            accounts,
        ),
    )
