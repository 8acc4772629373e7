"""A shop on the fake database: a customer, a mailbox, an order placed through the use case.

Everything a use-case test needs before the event it is about, built the way the app
builds it (quote_renewal, then place_order), so the tests start from real states.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from app.domain.access import Principal, Role
from app.domain.account import Account
from app.domain.billing import Billing, Holder, PublicAdministrationBilling
from app.domain.mailbox import Mailbox, MailboxStatus
from app.domain.order import Consents, OrderRequest, PaymentMethod
from app.domain.order_aggregate import Order
from app.domain.payment_instructions import PaymentAccounts
from app.domain.quote import RenewalItem, RenewalRequest, quote_renewal
from app.domain.quote_record import QuoteRecord
from app.domain.stored_payment_event import StoredPaymentEvent
from app.sandbox.demo_catalog import demo_price_list
from app.services.idempotency import IdempotentRequest
from app.services.order_placement import place_order
from tests.fakes import FakeDatabase
from tests.unit.builders import NOW, PERSON

CUSTOMER = Principal(Role.CUSTOMER, "acc-1")
PAYABLE = 1208  # a year of STANDARD, VAT included: the worked example
PA_PAYABLE = 990  # the same under split payment: the net
EXPIRES_ON = date(2026, 7, 31)

PA_SPLIT = Billing(
    public_administration=PublicAdministrationBilling("UFH2KD", "Z1A2B3C4D5", None, True)
)
ACCOUNTS = PaymentAccounts(
    iban="IT60X0542811101000000123456",
    beneficiary="PEC Provider S.p.A.",
    postal_account="12345678",
    card_payment_url="https://pay.example.it/checkout",
)


def mailbox(mailbox_id: str = "mbx-1", expires_on: date = EXPIRES_ON) -> Mailbox:
    return Mailbox(
        id=mailbox_id,
        address=f"{mailbox_id}@pec.example.it",
        plan_code="STANDARD",
        extra_mailbox_gb=0,
        extra_archive_gb=0,
        used_mailbox_mb=300,
        used_archive_mb=0,
        expires_on=expires_on,
        status=MailboxStatus.ACTIVE,
        auto_renewal=False,
        account_id=CUSTOMER.subject,
    )


@dataclass(slots=True)
class Shop:
    db: FakeDatabase

    @classmethod
    def open(cls, *mailboxes: Mailbox) -> Shop:
        db = FakeDatabase()
        db.tables.accounts[CUSTOMER.subject] = Account(
            CUSTOMER.subject, "Mario Rossi", "mario.rossi@example.it", "it"
        )
        for box in mailboxes or (mailbox(),):
            db.tables.mailboxes[box.id] = box
        return cls(db)

    async def place(
        self,
        mailbox_ids: tuple[str, ...] = ("mbx-1",),
        *,
        method: PaymentMethod = PaymentMethod.BANK_TRANSFER,
        holder: Holder = PERSON,
        billing: Billing | None = None,
        now: datetime = NOW,
        plan: str | None = None,
    ) -> Order:
        """Quote the mailboxes for a year and place the order, as a customer would; with
        `plan`, they move to it (an archive deletion acknowledged)."""
        quote_id = f"qte-{len(self.db.tables.quotes) + 1}"
        boxes = {i: self.db.tables.mailboxes[i] for i in mailbox_ids}
        request = RenewalRequest(1, tuple(RenewalItem(i, plan, None) for i in mailbox_ids))
        quote = quote_renewal(request, boxes, demo_price_list(), now)
        self.db.tables.quotes[quote_id] = QuoteRecord(quote_id, CUSTOMER, quote)
        order_request = OrderRequest(
            quote_id=quote_id,
            holder=holder,
            billing=billing or Billing(),
            payment_method=method,
            consents=Consents(terms=True, unfair_terms=True, privacy=True, version="2026-01"),
            acknowledge_archive_deletion=quote.requires_archive_acknowledgement,
        )
        keyed = IdempotentRequest(CUSTOMER, "place_order", f"key-{quote_id}", quote_id)
        answer = await place_order(
            self.db.unit_of_work(), CUSTOMER, order_request, now, "it", ACCOUNTS, keyed,
            lambda order: (201, {"id": order.id}),
        )  # fmt: skip
        return self.order(answer.body["id"])

    # --- reading the committed state ----------------------------------------------------

    def order(self, order_id: str) -> Order:
        return self.db.tables.orders[order_id].order

    def mailbox(self, mailbox_id: str = "mbx-1") -> Mailbox:
        return self.db.tables.mailboxes[mailbox_id]

    def events(self) -> list[StoredPaymentEvent]:
        return sorted(self.db.tables.payment_events.values(), key=lambda e: e.id)

    def held(self) -> list[StoredPaymentEvent]:
        """What staff see to reconcile."""
        return [e for e in self.events() if e.outcome == "reconcile" and e.resolved_at is None]

    def pending_mailboxes(self) -> dict[str, str]:
        return dict(self.db.tables.pending_renewals)

    def outbox_keys(self) -> list[str]:
        return sorted(self.db.tables.outbox)


def event(
    order_ref: str | None,
    kind: str = "payment.succeeded",
    amount_cents: int | None = PAYABLE,
    *,
    event_id: str = "evt-1",
    currency: str = "EUR",
    at: datetime = NOW,
) -> dict[str, Any]:
    """An event as the webhook adapters hand it to receive_event."""
    return {
        "event_id": event_id,
        "kind": kind,
        "order_ref": order_ref,
        "amount_cents": amount_cents,
        "currency": currency,
        "occurred_at": at,
        "payload": {},
    }


LATER = NOW + timedelta(hours=1)
