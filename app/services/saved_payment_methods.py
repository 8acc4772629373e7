"""Saved payment methods: kept when a card or PayPal payment turns automatic renewal on,
shown to their account and removed at its request.

What is kept is the provider's reference (Stripe: the PaymentIntent's customer and
payment method ids), never card data; the automatic renewal charges the newest one.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime

from app.domain.access import Principal, Role
from app.domain.mailbox import Mailbox
from app.domain.order_aggregate import Order
from app.domain.saved_payment_method import SavedPaymentMethod, stripe_reference
from app.domain.stored_payment_event import StoredPaymentEvent
from app.services.errors import ResourceNotFound
from app.services.unit_of_work import UnitOfWorkProtocol


async def keep_saved_method(
    uow: UnitOfWorkProtocol,
    order: Order,
    event: StoredPaymentEvent,
    mailboxes: Mapping[str, Mailbox],
    now: datetime,
) -> None:
    """In the transaction that fulfils `order` with `event`: keep the method it was paid
    with for each account whose mailboxes now renew automatically by it."""
    if not order.automatic_renewal or event.provider != "stripe":
        return
    payload = await uow.payment_events.payload_of(event.id)
    reference = stripe_reference(payload or {})
    if reference is None:
        return
    customer_ref, method_ref = reference
    for account_id in sorted({mailbox.account_id for mailbox in mailboxes.values()}):
        await uow.saved_methods.add(
            SavedPaymentMethod(
                id=f"spm_{uuid.uuid4().hex}",
                account_id=account_id,
                provider=event.provider,
                kind=order.payment_method.value,
                customer_ref=customer_ref,
                method_ref=method_ref,
                order_id=order.id,
                created_at=now,
            )
        )


async def list_methods(uow: UnitOfWorkProtocol, principal: Principal) -> list[SavedPaymentMethod]:
    """A customer's saved methods, newest first; nobody else has any."""
    if principal.role is not Role.CUSTOMER:
        return []
    async with uow:
        return await uow.saved_methods.of_account(principal.subject)


async def remove_method(uow: UnitOfWorkProtocol, principal: Principal, method_id: str) -> None:
    """Forget a saved method: the next automatic renewal can't charge it (it then asks
    the holder to pay another way). Another account's method is a 404."""
    async with uow:
        removed = principal.role is Role.CUSTOMER and await uow.saved_methods.remove(
            principal.subject, method_id
        )
        if not removed:
            raise ResourceNotFound("payment_method", method_id)
        await uow.commit()
