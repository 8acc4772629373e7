"""The order as an aggregate: every state change is a method that enforces its rule.

AWAITING_PAYMENT → FULFILLED (paid, or on a public administration's commitment) →
REFUNDED once its refunds reach what was payable; or CANCELLED / EXPIRED while unpaid.
Pure: the services load an Order, call one of these methods, and save it; what a
fulfilment does to mailboxes comes back as MailboxChanges for them to apply.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from app.domain.access import Principal
from app.domain.billing import HolderKind
from app.domain.calendar import italian_date
from app.domain.errors import DomainError
from app.domain.holder_record import HolderRecord
from app.domain.mailbox import Mailbox, MailboxStatus, effective_status
from app.domain.order import (
    Consents,
    OrderAmounts,
    OrderNotCancellable,
    OrderRequest,
    OrderStatus,
    PaymentMethod,
    order_amounts,
    order_number,
)
from app.domain.order_items import MailboxChange, OrderItem
from app.domain.payment_registration import (
    Action,
    Decision,
    OrderPaymentState,
    PaymentEvent,
    decide,
)
from app.domain.quote import Quote


class OrderNotFulfillable(RuntimeError):
    """Only an order awaiting payment is fulfilled, and only once: a bug if it happens
    (the lock on the order and the payment decision come first)."""


class CommitmentNotApplicable(DomainError):
    """Only a public administration's order awaiting payment takes a commitment."""

    code = "commitment_not_applicable"


@dataclass(frozen=True, slots=True)
class Settlement:
    """What a payment event did: the decision, and the mailbox changes if it fulfilled."""

    decision: Decision
    changes: tuple[MailboxChange, ...] = ()
    expired: bool = False  # the payment came after the grace: the order expired instead

    @property
    def fulfilled(self) -> bool:
        return self.decision.action is Action.FULFIL

    @property
    def paid_now(self) -> bool:
        """Money arrived: refunds that waited for it can be decided."""
        return self.decision.action in (Action.FULFIL, Action.RECORD_PAYMENT)


@dataclass(slots=True)
class Order:
    id: str
    owner: Principal
    quote_id: str
    payment_method: PaymentMethod
    years: int
    currency: str
    amounts: OrderAmounts
    holder: HolderRecord
    holder_from_file: bool  # nothing typed: the record on file is not replaced
    consents: Consents
    acknowledge_archive_deletion: bool
    items: tuple[OrderItem, ...]
    language: str
    created_at: datetime
    seq: int = 0  # given by the database when the order is stored
    status: OrderStatus = OrderStatus.AWAITING_PAYMENT
    paid_at: datetime | None = None
    fulfilled_at: datetime | None = None
    commitment_at: datetime | None = None
    closed_at: datetime | None = None
    refunded_cents: int = 0
    automatic_renewal: bool = False  # fulfilling turns the mailboxes' automatic renewal on
    placed_automatically: bool = False  # by the automatic renewal, not by a person

    # --- placing -----------------------------------------------------------------------

    @classmethod
    def place(
        cls,
        order_id: str,
        owner: Principal,
        request: OrderRequest,
        quote: Quote,
        now: datetime,
        language: str,
    ) -> Order:
        """A new order awaiting payment for exactly the quote (check_order passed)."""
        record = request.holder_record()
        return cls(
            id=order_id,
            owner=owner,
            quote_id=request.quote_id,
            payment_method=request.payment_method,
            years=quote.years,
            currency=quote.currency,
            amounts=order_amounts(quote, record.billing),
            holder=record,
            holder_from_file=request.holder_from_file,
            consents=request.consents,
            acknowledge_archive_deletion=request.acknowledge_archive_deletion,
            items=tuple(OrderItem.of(item) for item in quote.items),
            language=language,
            created_at=now,
            automatic_renewal=request.wants_automatic_renewal,
            placed_automatically=request.placed_automatically,
        )

    # --- what it is ----------------------------------------------------------------------

    @property
    def number(self) -> str:
        return order_number(self.seq, self.created_at)

    @property
    def payable_cents(self) -> int:
        return self.amounts.payable_cents

    @property
    def mailbox_ids(self) -> list[str]:
        """Sorted: locks are taken in this order, so two orders can't deadlock."""
        return sorted({item.mailbox_id for item in self.items})

    @property
    def paid(self) -> bool:
        return self.paid_at is not None

    @property
    def split_payment(self) -> bool:
        pa = self.holder.billing.public_administration
        return pa is not None and pa.split_payment

    def visible_to(self, principal: Principal) -> bool:
        return principal.may_open_order_of(self.owner)

    # --- closing while unpaid ------------------------------------------------------------

    def cancel(self, now: datetime) -> None:
        """The customer withdraws: only while awaiting payment."""
        if self.status is not OrderStatus.AWAITING_PAYMENT:
            raise OrderNotCancellable(self.status)
        self._close(OrderStatus.CANCELLED, now)

    def expire(self, now: datetime) -> None:
        """Unpaid when a mailbox's grace ended: nothing is left to renew."""
        if self.status is not OrderStatus.AWAITING_PAYMENT:
            raise OrderNotCancellable(self.status)
        self._close(OrderStatus.EXPIRED, now)

    def _close(self, status: OrderStatus, now: datetime) -> None:
        self.status = status
        self.closed_at = now

    @property
    def closed(self) -> bool:
        return self.status in (OrderStatus.CANCELLED, OrderStatus.EXPIRED)

    # --- fulfilment ------------------------------------------------------------------------

    def still_renewable(self, mailboxes: Mapping[str, Mailbox], now: datetime) -> bool:
        """False when one of its mailboxes is past its grace (or suspended) by now."""
        today = italian_date(now)
        return all(
            effective_status(mailbox, today) not in (MailboxStatus.DELETED, MailboxStatus.SUSPENDED)
            for mailbox in mailboxes.values()
        )

    def fulfil(
        self, mailboxes: Mapping[str, Mailbox], now: datetime, *, paid: bool
    ) -> tuple[MailboxChange, ...]:
        """Renew every mailbox, once; a mailbox no longer mirrored is skipped. The expiry
        moves now; a downgrade of a mailbox not yet expired waits for its expiry
        (app.domain.plan_change), an upgrade is applied now."""
        if self.status is not OrderStatus.AWAITING_PAYMENT:
            raise OrderNotFulfillable(self.status.value)
        auto = self.automatic_renewal
        today = italian_date(now)
        changes = tuple(
            MailboxChange.renewal(item, mailboxes[item.mailbox_id], self.years,
                                  turns_auto_renewal_on=auto, order_id=self.id, today=today)
            for item in self.items
            if item.mailbox_id in mailboxes
        )  # fmt: skip
        self.status = OrderStatus.FULFILLED
        self.fulfilled_at = now
        if paid:
            self.paid_at = now
        return changes

    def register_commitment(
        self, mailboxes: Mapping[str, Mailbox], now: datetime
    ) -> tuple[MailboxChange, ...]:
        """A public administration commits to pay: fulfilled now, the money comes later."""
        is_pa = self.holder.holder.kind is HolderKind.PUBLIC_ADMINISTRATION
        if not is_pa or self.status is not OrderStatus.AWAITING_PAYMENT:
            raise CommitmentNotApplicable(self.id)
        self.commitment_at = now
        return self.fulfil(mailboxes, now, paid=False)

    # --- payments and refunds --------------------------------------------------------------

    def payment_state(self) -> OrderPaymentState:
        return OrderPaymentState(
            self.status, self.payable_cents, self.currency, self.paid, self.refunded_cents
        )

    def decide(self, event: PaymentEvent) -> Decision:
        """What `event` would do to this order now (nothing changes)."""
        return decide(self.payment_state(), event)

    def settle(
        self, event: PaymentEvent, now: datetime, mailboxes: Mapping[str, Mailbox]
    ) -> Settlement:
        """Apply a verified payment event as decided. A payment that would fulfil needs the
        order's mailboxes, locked; if their grace has ended, the order expires instead and
        the money goes to reconciliation."""
        decision = self.decide(event)
        if decision.action is Action.FULFIL:
            if not self.still_renewable(mailboxes, now):
                self.expire(now)
                return Settlement(Decision(Action.RECONCILE, "order_closed"), expired=True)
            return Settlement(decision, self.fulfil(mailboxes, now, paid=True))
        if decision.action is Action.RECORD_PAYMENT:
            self.paid_at = now
        elif decision.action is Action.RECORD_REFUND:
            assert event.amount_cents is not None  # decide() reconciles the others
            self.refund(event.amount_cents, cumulative=event.cumulative)
        return Settlement(decision)

    def refund(self, amount_cents: int, *, cumulative: bool) -> None:
        """Count a refund; a cumulative one (Stripe) is the total so far, never added twice.
        Refunded as much as was payable: the order is REFUNDED."""
        if cumulative:
            self.refunded_cents = max(self.refunded_cents, amount_cents)
        else:
            self.refunded_cents += amount_cents
        if self.refunded_cents >= self.payable_cents:
            self.status = OrderStatus.REFUNDED
