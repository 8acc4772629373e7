"""Orders: what may become an order, what it costs to pay, and how to pay it.

An order is placed from a valid, unblocked quote and pays exactly the quote's total
(or its net, under PA split payment). Placing one is checked here, purely; storing it,
the order number and the one-unpaid-order-per-mailbox guard are the database's job.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from app.domain.access import Role
from app.domain.billing import Billing, Holder, HolderKind, billing_errors
from app.domain.errors import DomainError, FieldError, InvalidOrderRequest, InvalidRequest
from app.domain.holder_record import HolderRecord, HolderRequired
from app.domain.quote import Quote

ACKNOWLEDGEMENT = "acknowledge_archive_deletion"

CONSENTS = ("terms", "unfair_terms", "privacy")


class OrderStatus(StrEnum):
    AWAITING_PAYMENT = "AWAITING_PAYMENT"
    PAID = "PAID"
    FULFILLED = "FULFILLED"
    CANCELLED = "CANCELLED"
    EXPIRED = "EXPIRED"
    REFUNDED = "REFUNDED"


class PaymentMethod(StrEnum):
    CARD = "card"
    PAYPAL = "paypal"
    BANK_TRANSFER = "bank_transfer"
    POSTAL_SLIP_PREFILLED = "postal_slip_prefilled"
    POSTAL_SLIP = "postal_slip"
    PARTNER_CREDIT = "partner_credit"

    @property
    def turns_auto_renewal_on(self) -> bool:
        """Card and PayPal keep the payment means: the next renewals are automatic."""
        return self in (PaymentMethod.CARD, PaymentMethod.PAYPAL)

    @property
    def registered(self) -> str:
        """When the provider registers the payment (shown with the instructions)."""
        return {
            PaymentMethod.CARD: "immediately",
            PaymentMethod.PAYPAL: "immediately",
            PaymentMethod.BANK_TRANSFER: "next_working_day",
            PaymentMethod.POSTAL_SLIP_PREFILLED: "same_day",
            PaymentMethod.POSTAL_SLIP: "five_to_seven_working_days",
            PaymentMethod.PARTNER_CREDIT: "immediately",
        }[self]


@dataclass(frozen=True, slots=True)
class Consents:
    """The three legal consents, as given, with the version of the texts shown."""

    terms: bool
    unfair_terms: bool
    privacy: bool
    version: str

    def missing(self) -> list[str]:
        return [name for name in CONSENTS if not getattr(self, name)]


@dataclass(frozen=True, slots=True)
class OrderAmounts:
    net_cents: int
    vat_cents: int
    total_cents: int
    payable_cents: int  # the total, or the net under split payment (the PA pays VAT)


@dataclass(frozen=True, slots=True)
class OrderRequest:
    quote_id: str
    holder: Holder | None  # None: the holder on file for the order's mailboxes
    billing: Billing | None  # None: the billing on file (or none, with a new holder)
    payment_method: PaymentMethod
    consents: Consents
    acknowledge_archive_deletion: bool = False
    holder_from_file: bool = False  # set when the holder on file filled holder and billing
    automatic_renewal: bool | None = None  # None: on for card and PayPal, off otherwise
    placed_automatically: bool = False  # the service renews on the customer's behalf

    @property
    def wants_automatic_renewal(self) -> bool:
        """Card and PayPal keep the payment means: renewals turn automatic unless the
        customer says no; other methods can't renew by themselves."""
        if self.automatic_renewal is None:
            return self.payment_method.turns_auto_renewal_on
        return self.automatic_renewal and self.payment_method.turns_auto_renewal_on

    def holder_record(self) -> HolderRecord:
        """The holder and billing, once given or filled from the file."""
        if self.holder is None or self.billing is None:
            raise HolderRequired()
        return HolderRecord(self.holder, self.billing)


# --- why an order can't be placed ------------------------------------------------------


class QuoteExpired(DomainError):
    code = "quote_expired"


class QuoteBlocked(DomainError):
    code = "quote_blocked"


class ConsentRequired(InvalidRequest):
    """Consents missing, and nothing else wrong with the order's data.

    `errors` names each missing consent (and an acknowledgement also missing), so the
    customer sees every box left to tick in one answer.
    """

    code = "consent_required"

    def __init__(self, missing: list[str], errors: list[FieldError] | None = None) -> None:
        super().__init__(errors or [FieldError(f"consents.{name}", self.code) for name in missing])
        self.missing = missing


class AcknowledgementRequired(InvalidRequest):
    """A downgrade deletes the security archive: the customer must say they know."""

    code = "acknowledgement_required"

    def __init__(self, mailbox_ids: list[str]) -> None:
        super().__init__([FieldError(ACKNOWLEDGEMENT, self.code)])
        self.mailbox_ids = mailbox_ids


class PendingOrderConflict(DomainError):
    """Rule 3 at order time: the mailbox already has an unpaid renewal order."""

    code = "pending_order_exists"

    def __init__(self, mailbox_id: str, order_id: str | None) -> None:
        # order_id is None when the caller can't open that order (access.visible_order_id).
        super().__init__(f"{mailbox_id}: {order_id}")
        self.mailbox_id = mailbox_id
        self.order_id = order_id


class InsufficientCredit(DomainError):
    code = "insufficient_credit"

    def __init__(self, needed_cents: int, available_cents: int) -> None:
        super().__init__(f"needs {needed_cents}, has {available_cents}")
        self.needed_cents = needed_cents
        self.available_cents = available_cents


class QuoteAlreadyOrdered(DomainError):
    """A quote becomes one order; a second POST without the same Idempotency-Key is a 409."""

    code = "quote_already_ordered"

    def __init__(self, order_id: str) -> None:
        super().__init__(order_id)
        self.order_id = order_id


class OrderNotCancellable(DomainError):
    code = "order_not_cancellable"

    def __init__(self, status: OrderStatus) -> None:
        super().__init__(status.value)
        self.status = status


# --- the rules ---------------------------------------------------------------------------


def check_order(quote: Quote, request: OrderRequest, role: Role, now: datetime) -> None:
    """Raise the first reason `request` can't become an order (rules of domain.md, Order)."""
    if not quote.is_valid_at(now):
        raise QuoteExpired(request.quote_id)
    if quote.blocked:
        raise QuoteBlocked(request.quote_id)
    record = request.holder_record()
    errors = billing_errors(record.holder, record.billing)
    errors += _payment_method_errors(request.payment_method, record.holder, role)
    if request.automatic_renewal and not request.payment_method.turns_auto_renewal_on:
        # Only a saved card or PayPal account can be charged when the renewal comes.
        errors.append(FieldError("automatic_renewal", "automatic_renewal_needs_card"))
    # Every remaining problem in one answer; the top-level code stays the most serious one.
    missing = request.consents.missing()
    unconsented = [FieldError(f"consents.{name}", ConsentRequired.code) for name in missing]
    deletes_archive = [i.mailbox_id for i in quote.items if i.deletes_archive]
    unacknowledged = (
        [FieldError(ACKNOWLEDGEMENT, AcknowledgementRequired.code)]
        if quote.requires_archive_acknowledgement and not request.acknowledge_archive_deletion
        else []
    )
    if errors:
        raise InvalidOrderRequest(errors + unconsented + unacknowledged)
    if missing:
        raise ConsentRequired(missing, unconsented + unacknowledged)
    if unacknowledged:
        raise AcknowledgementRequired(deletes_archive)


def order_amounts(quote: Quote, billing: Billing) -> OrderAmounts:
    """What the order costs: exactly the quote; under split payment the PA pays the net."""
    payable = quote.net_cents if billing.split_payment else quote.total_cents
    return OrderAmounts(quote.net_cents, quote.vat_cents, quote.total_cents, payable)


def order_number(sequence: int, created_at: datetime) -> str:
    """The human order number: the bank transfer's description (PEC-2026-0000042)."""
    return f"PEC-{created_at.year}-{sequence:07d}"


_ORDER_NUMBER = re.compile(r"PEC-\d{4}-(\d{1,10})", re.ASCII)
MAX_SEQUENCE = 2**31 - 1  # orders.seq is a 32-bit column


def sequence_of(number: str) -> int | None:
    """The sequence inside an order number, or None when it isn't one.

    Bank transfers carry what the customer typed: only ASCII digits are accepted.
    """
    match = _ORDER_NUMBER.fullmatch(number.strip().upper())
    if match is None or int(match.group(1)) > MAX_SEQUENCE:
        return None
    return int(match.group(1))


def _payment_method_errors(method: PaymentMethod, holder: Holder, role: Role) -> list[FieldError]:
    if role is Role.PARTNER and method is not PaymentMethod.PARTNER_CREDIT:
        return [FieldError("payment_method", "partner_pays_by_credit")]
    if role is not Role.PARTNER and method is PaymentMethod.PARTNER_CREDIT:
        return [FieldError("payment_method", "payment_method_not_allowed")]
    if (
        holder.kind is HolderKind.PUBLIC_ADMINISTRATION
        and method is not PaymentMethod.BANK_TRANSFER
    ):
        return [FieldError("payment_method", "public_administration_pays_by_transfer")]
    return []
