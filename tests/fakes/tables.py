"""The fake database's committed state: one dict per table, keyed as its unique keys are."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from app.domain.account import Account, HolderVersion
from app.domain.catalog import PriceList
from app.domain.holder_record import HolderRecord
from app.domain.idempotency_identity import IdempotencyIdentity
from app.domain.mailbox import Mailbox
from app.domain.order_aggregate import Order
from app.domain.partner import CreditMovement, Partner
from app.domain.partner_webhook import DeliveryAttempt, WebhookDelivery
from app.domain.plan_change import ScheduledChange
from app.domain.quote_record import QuoteRecord
from app.domain.renewal_mode import RenewalMode
from app.domain.saved_payment_method import SavedPaymentMethod
from app.domain.stored_payment_event import StoredPaymentEvent
from app.domain.webhook_endpoint import WebhookEndpoint


@dataclass(slots=True)
class StoredOrder:
    order: Order
    idempotency_key: str | None
    request_hash: str


@dataclass(slots=True)
class OutboxMessage:
    id: int
    kind: str
    dedupe_key: str
    payload: dict[str, Any]
    available_at: datetime
    attempts: int = 0
    delivered_at: datetime | None = None
    last_error: str | None = None


@dataclass(slots=True)
class IdempotencyRecord:
    fingerprint: str
    created_at: datetime
    status_code: int | None = None
    body: dict[str, Any] | None = None


@dataclass(slots=True)
class StoredPriceList:
    price_list: PriceList
    published_by: str | None
    published_at: datetime | None


@dataclass(slots=True)
class Tables:
    orders: dict[str, StoredOrder] = field(default_factory=dict)
    pending_renewals: dict[str, str] = field(default_factory=dict)  # mailbox id → order id
    mailboxes: dict[str, Mailbox] = field(default_factory=dict)
    mailbox_records: dict[str, HolderRecord] = field(default_factory=dict)  # a mailbox's own
    payment_events: dict[int, StoredPaymentEvent] = field(default_factory=dict)
    outbox: dict[str, OutboxMessage] = field(default_factory=dict)  # by dedupe key
    idempotency: dict[IdempotencyIdentity, IdempotencyRecord] = field(default_factory=dict)
    accounts: dict[str, Account] = field(default_factory=dict)
    holder_versions: list[tuple[str, HolderVersion]] = field(default_factory=list)
    partners: dict[str, Partner] = field(default_factory=dict)
    credit_movements: dict[str, list[CreditMovement]] = field(default_factory=dict)
    quotes: dict[str, QuoteRecord] = field(default_factory=dict)
    price_lists: dict[str, StoredPriceList] = field(default_factory=dict)
    # (mailbox id, expiry, milestone) → when it was reached
    milestones: dict[tuple[str, date, str], datetime] = field(default_factory=dict)
    webhook_endpoints: dict[str, WebhookEndpoint] = field(default_factory=dict)  # by partner
    webhook_deliveries: dict[str, WebhookDelivery] = field(default_factory=dict)  # by event
    webhook_attempts: dict[int, list[DeliveryAttempt]] = field(default_factory=dict)
    # mailbox id → (partner that set it, its renewal mode)
    renewal_modes: dict[str, tuple[str, RenewalMode]] = field(default_factory=dict)
    scheduled_changes: dict[str, ScheduledChange] = field(default_factory=dict)  # by mailbox
    payment_event_payloads: dict[int, dict[str, Any]] = field(default_factory=dict)
    saved_methods: dict[str, SavedPaymentMethod] = field(default_factory=dict)


@dataclass(slots=True)
class Sequences:
    """Like PostgreSQL's sequences: a number handed out is never given back on rollback."""

    order_seq: int = 0
    payment_event_id: int = 0
    outbox_id: int = 0
    credit_movement_id: int = 0
    webhook_delivery_id: int = 0

    def next_order_seq(self) -> int:
        self.order_seq += 1
        return self.order_seq

    def next_payment_event_id(self) -> int:
        self.payment_event_id += 1
        return self.payment_event_id

    def next_outbox_id(self) -> int:
        self.outbox_id += 1
        return self.outbox_id

    def next_credit_movement_id(self) -> int:
        self.credit_movement_id += 1
        return self.credit_movement_id

    def next_webhook_delivery_id(self) -> int:
        self.webhook_delivery_id += 1
        return self.webhook_delivery_id
