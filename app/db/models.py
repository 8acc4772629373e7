"""Tables. Money is integer cents plus a currency; rates are basis points (2200 = 22%)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    MetaData,
    String,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from app.db.types import JSONDocument, UTCDateTime

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class PriceListRow(Base):
    __tablename__ = "price_lists"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    valid_from: Mapped[datetime] = mapped_column(UTCDateTime())
    valid_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    currency: Mapped[str] = mapped_column(String(3))
    vat_rate_bp: Mapped[int] = mapped_column(Integer)
    extra_mailbox_gb_yearly_cents: Mapped[int] = mapped_column(BigInteger)
    extra_archive_gb_yearly_cents: Mapped[int] = mapped_column(BigInteger)
    kit_shipping_cents: Mapped[int] = mapped_column(BigInteger)
    # Who published it and when (staff id, or "sandbox"/"cli" for the tools).
    published_by: Mapped[str | None] = mapped_column(String(64))
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class PlanRow(Base):
    __tablename__ = "plans"

    price_list_id: Mapped[str] = mapped_column(
        ForeignKey("price_lists.id", ondelete="CASCADE"), primary_key=True
    )
    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, default=0)  # display order
    name: Mapped[str] = mapped_column(String(120))
    mailbox_gb: Mapped[int] = mapped_column(Integer)
    max_mailbox_gb: Mapped[int | None] = mapped_column(Integer)
    archive_gb: Mapped[int] = mapped_column(Integer)
    extra_archive_allowed: Mapped[bool] = mapped_column(Boolean)
    sms_reports: Mapped[bool] = mapped_column(Boolean)
    extra_users: Mapped[int] = mapped_column(Integer)
    yearly_price_cents: Mapped[int] = mapped_column(BigInteger)
    own_domain: Mapped[bool] = mapped_column(Boolean, default=False)

    __table_args__ = (CheckConstraint("yearly_price_cents >= 0", name="price_not_negative"),)


class SignatureKitRow(Base):
    __tablename__ = "signature_kits"

    price_list_id: Mapped[str] = mapped_column(
        ForeignKey("price_lists.id", ondelete="CASCADE"), primary_key=True
    )
    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    price_cents: Mapped[int] = mapped_column(BigInteger)


class PromotionRow(Base):
    __tablename__ = "promotions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    price_list_id: Mapped[str] = mapped_column(String(64))
    plan_code: Mapped[str] = mapped_column(String(32))
    yearly_price_cents: Mapped[int] = mapped_column(BigInteger)
    valid_from: Mapped[date] = mapped_column(Date)
    valid_until: Mapped[date] = mapped_column(Date)
    max_years: Mapped[int] = mapped_column(Integer, default=2)

    __table_args__ = (
        ForeignKeyConstraint(
            ["price_list_id", "plan_code"],
            ["plans.price_list_id", "plans.code"],
            ondelete="CASCADE",
        ),
    )


class ConventionCodeRow(Base):
    __tablename__ = "convention_codes"

    price_list_id: Mapped[str] = mapped_column(
        ForeignKey("price_lists.id", ondelete="CASCADE"), primary_key=True
    )
    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    description: Mapped[str] = mapped_column(String(200))
    discount_rate_bp: Mapped[int] = mapped_column(Integer)
    valid_from: Mapped[date] = mapped_column(Date)
    valid_until: Mapped[date] = mapped_column(Date)


class AccountRow(Base):
    """A customer account: the owner of mailboxes (the JWT `sub` of a customer)."""

    __tablename__ = "accounts"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(320))
    language: Mapped[str] = mapped_column(String(2), default="it")
    # The holder and e-invoicing data on file, offered for confirmation at each renewal.
    holder: Mapped[dict[str, Any] | None] = mapped_column(JSONDocument)
    billing: Mapped[dict[str, Any] | None] = mapped_column(JSONDocument)
    updated_by: Mapped[str | None] = mapped_column(String(64))
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class PartnerRow(Base):
    """A reseller (the JWT `sub` of a partner), paying from a prepaid credit."""

    __tablename__ = "partners"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    credit_cents: Mapped[int] = mapped_column(BigInteger, default=0)
    email: Mapped[str | None] = mapped_column(String(320))
    language: Mapped[str] = mapped_column(String(2), default="it")
    low_credit_threshold_cents: Mapped[int] = mapped_column(BigInteger, default=0)
    updated_by: Mapped[str | None] = mapped_column(String(64))
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (CheckConstraint("credit_cents >= 0", name="credit_not_negative"),)


class MailboxRow(Base):
    """The mirror of the mail platform's mailbox record."""

    __tablename__ = "mailboxes"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    address: Mapped[str] = mapped_column(String(320), unique=True)
    plan_code: Mapped[str] = mapped_column(String(32))
    extra_mailbox_gb: Mapped[int] = mapped_column(Integer, default=0)
    extra_archive_gb: Mapped[int] = mapped_column(Integer, default=0)
    used_mailbox_mb: Mapped[int] = mapped_column(Integer, default=0)
    used_archive_mb: Mapped[int] = mapped_column(Integer, default=0)
    expires_on: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16))
    auto_renewal: Mapped[bool] = mapped_column(Boolean, default=False)
    auto_renewal_years: Mapped[int] = mapped_column(Integer, default=1)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"), index=True)
    partner_id: Mapped[str | None] = mapped_column(ForeignKey("partners.id"), index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # Set only where the mailbox's holder differs from its account's.
    holder: Mapped[dict[str, Any] | None] = mapped_column(JSONDocument)
    billing: Mapped[dict[str, Any] | None] = mapped_column(JSONDocument)

    __table_args__ = (
        CheckConstraint(
            "status IN ('ACTIVE', 'EXPIRED', 'DELETED', 'SUSPENDED')", name="status_known"
        ),
        CheckConstraint(
            "extra_mailbox_gb >= 0 AND extra_archive_gb >= 0", name="extra_space_not_negative"
        ),
        CheckConstraint("used_mailbox_mb >= 0 AND used_archive_mb >= 0", name="used_not_negative"),
        Index("ix_mailboxes_expires_on_id", "expires_on", "id"),
    )


class QuoteRow(Base):
    """A frozen quote: the totals as columns, the whole priced document as JSON."""

    __tablename__ = "quotes"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    owner_role: Mapped[str] = mapped_column(String(16))
    owner_id: Mapped[str] = mapped_column(String(64))
    price_list_id: Mapped[str] = mapped_column(ForeignKey("price_lists.id"))
    status: Mapped[str] = mapped_column(String(16))
    years: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3))
    net_cents: Mapped[int] = mapped_column(BigInteger)
    vat_cents: Mapped[int] = mapped_column(BigInteger)
    total_cents: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    valid_until: Mapped[datetime] = mapped_column(UTCDateTime())
    document: Mapped[dict[str, Any]] = mapped_column(JSONDocument)
    idempotency_key: Mapped[str | None] = mapped_column(String(255))
    request_hash: Mapped[str | None] = mapped_column(String(64))

    __table_args__ = (
        Index("ix_quotes_owner_created", "owner_role", "owner_id", "created_at", "id"),
        Index(
            "uq_quotes_owner_idempotency_key",
            "owner_role",
            "owner_id",
            "idempotency_key",
            unique=True,
        ),
    )


class OrderRow(Base):
    """An order. `seq` numbers it for humans (PEC-2026-0000042); `id` is the API's id."""

    __tablename__ = "orders"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    id: Mapped[str] = mapped_column(String(64), unique=True)
    owner_role: Mapped[str] = mapped_column(String(16))
    owner_id: Mapped[str] = mapped_column(String(64))
    quote_id: Mapped[str] = mapped_column(ForeignKey("quotes.id"), unique=True)
    status: Mapped[str] = mapped_column(String(20))
    payment_method: Mapped[str] = mapped_column(String(32))
    years: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3))
    net_cents: Mapped[int] = mapped_column(BigInteger)
    vat_cents: Mapped[int] = mapped_column(BigInteger)
    total_cents: Mapped[int] = mapped_column(BigInteger)
    payable_cents: Mapped[int] = mapped_column(BigInteger)
    refunded_cents: Mapped[int] = mapped_column(BigInteger, default=0)
    language: Mapped[str] = mapped_column(String(2))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    fulfilled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    commitment_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # cancelled/expired
    document: Mapped[dict[str, Any]] = mapped_column(JSONDocument)  # holder, billing, items…
    idempotency_key: Mapped[str | None] = mapped_column(String(255))
    request_hash: Mapped[str | None] = mapped_column(String(64))

    __table_args__ = (
        CheckConstraint(
            "status IN ('AWAITING_PAYMENT', 'PAID', 'FULFILLED', 'CANCELLED', 'EXPIRED', "
            "'REFUNDED')",
            name="status_known",
        ),
        CheckConstraint("payable_cents >= 0 AND refunded_cents >= 0", name="amounts_sane"),
        Index("ix_orders_owner_created", "owner_role", "owner_id", "created_at", "seq"),
        Index(
            "uq_orders_owner_idempotency_key",
            "owner_role",
            "owner_id",
            "idempotency_key",
            unique=True,
        ),
    )


class PendingRenewalRow(Base):
    """Rule 3 as a constraint: at most one unpaid renewal order per mailbox."""

    __tablename__ = "pending_renewals"

    mailbox_id: Mapped[str] = mapped_column(ForeignKey("mailboxes.id"), primary_key=True)
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id"), index=True)


class PaymentEventRow(Base):
    """A verified payment event, stored before it is acknowledged, handled once."""

    __tablename__ = "payment_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    provider: Mapped[str] = mapped_column(String(32))
    event_id: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(32))
    order_ref: Mapped[str | None] = mapped_column(String(64))
    order_id: Mapped[str | None] = mapped_column(String(64), index=True)
    # A provider may send any amount: store it whatever it is, and reconcile it. None:
    # the amount doesn't fit (the raw value is in the payload).
    amount_cents: Mapped[int | None] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(16))  # as sent (upper-cased), never cut
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime())
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    payload: Mapped[dict[str, Any]] = mapped_column(JSONDocument)
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    outcome: Mapped[str | None] = mapped_column(String(32))
    reason: Mapped[str | None] = mapped_column(String(64))  # why it needs reconciliation
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Transient failures (lost connection, timeout, deadlock): retried with backoff.
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    first_failed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(String(500))

    __table_args__ = (
        Index("uq_payment_events_provider_event", "provider", "event_id", unique=True),
        Index("ix_payment_events_unprocessed", "processed_at", "id"),
    )


class OutboxRow(Base):
    """A message to the outside world (email, mail platform), delivered by the worker."""

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(32))
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JSONDocument)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    available_at: Mapped[datetime] = mapped_column(UTCDateTime())
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(String(500))

    __table_args__ = (Index("ix_outbox_due", "delivered_at", "available_at", "id"),)


class CreditMovementRow(Base):
    """The partner credit's ledger: every top-up and every order it paid, with the balance
    after it. A top-up retried with its Idempotency-Key is found here, not applied twice."""

    __tablename__ = "partner_credit_movements"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    partner_id: Mapped[str] = mapped_column(ForeignKey("partners.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # top_up | order
    amount_cents: Mapped[int] = mapped_column(BigInteger)  # + top-up, − order
    balance_after_cents: Mapped[int] = mapped_column(BigInteger)
    order_id: Mapped[str | None] = mapped_column(String(64))
    idempotency_key: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (
        Index("uq_partner_credit_movements_key", "partner_id", "idempotency_key", unique=True),
    )


class HolderVersionRow(Base):
    """A holder record that was replaced: who the holder was, until when, and why."""

    __tablename__ = "holder_versions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"), index=True)
    mailbox_id: Mapped[str | None] = mapped_column(String(64))  # None: the account's own
    holder: Mapped[dict[str, Any] | None] = mapped_column(JSONDocument)
    billing: Mapped[dict[str, Any] | None] = mapped_column(JSONDocument)
    replaced_at: Mapped[datetime] = mapped_column(UTCDateTime())
    replaced_by: Mapped[str] = mapped_column(String(100))  # "order:<id>" or "staff:<id>"


class IdempotencyRecordRow(Base):
    """The first answer to a POST with an Idempotency-Key, replayed to every retry."""

    __tablename__ = "idempotency_records"

    owner_role: Mapped[str] = mapped_column(String(16), primary_key=True)
    owner_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    operation: Mapped[str] = mapped_column(String(64), primary_key=True)
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int | None] = mapped_column(Integer)  # None: the first is running
    body: Mapped[dict[str, Any] | None] = mapped_column(JSONDocument)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class MailboxMilestoneRow(Base):
    """A time-driven step taken for a mailbox's expiry date (a reminder sent, an automatic
    charge tried, the deletion ordered): the primary key makes each step happen at most
    once per mailbox and expiry, whatever the number of workers sweeping at once."""

    __tablename__ = "mailbox_milestones"

    mailbox_id: Mapped[str] = mapped_column(
        ForeignKey("mailboxes.id", ondelete="CASCADE"), primary_key=True
    )
    expires_on: Mapped[date] = mapped_column(Date, primary_key=True)
    milestone: Mapped[str] = mapped_column(String(48), primary_key=True)
    reached_at: Mapped[datetime] = mapped_column(UTCDateTime())


class PartnerWebhookEndpointRow(Base):
    """Where a partner receives its events, and the Standard Webhooks secret that signs
    them (kept as given: signing needs it; only a hint of it is ever shown again)."""

    __tablename__ = "partner_webhook_endpoints"

    partner_id: Mapped[str] = mapped_column(
        ForeignKey("partners.id", ondelete="CASCADE"), primary_key=True
    )
    url: Mapped[str] = mapped_column(String(2048))
    secret: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class PartnerWebhookDeliveryRow(Base):
    """The delivery log: one row per event sent (or not) to a partner."""

    __tablename__ = "partner_webhook_deliveries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    event_id: Mapped[str] = mapped_column(String(64), unique=True)
    partner_id: Mapped[str] = mapped_column(String(64))
    event_type: Mapped[str] = mapped_column(String(32))
    body: Mapped[dict[str, Any]] = mapped_column(JSONDocument)
    status: Mapped[str] = mapped_column(String(16))  # pending | delivered | failed | skipped
    round: Mapped[int] = mapped_column(Integer, default=0)  # 0, then +1 per redelivery
    round_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    attempt_count: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (Index("ix_partner_webhook_deliveries_partner", "partner_id", "id"),)


class PartnerWebhookAttemptRow(Base):
    """One POST of a delivery: when, where, the HTTP status or the error, how long."""

    __tablename__ = "partner_webhook_attempts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    delivery_id: Mapped[int] = mapped_column(
        ForeignKey("partner_webhook_deliveries.id", ondelete="CASCADE"), index=True
    )
    attempted_at: Mapped[datetime] = mapped_column(UTCDateTime())
    url: Mapped[str] = mapped_column(String(2048))
    status_code: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(String(500))
    duration_ms: Mapped[int] = mapped_column(Integer)


class PartnerRenewalModeRow(Base):
    """A partner's renewal mode for a mailbox it manages (no row: `at_expiry`, 1 year).

    Kept with the partner that set it: a mailbox moved to another partner is back to
    the default for the new one until it sets its own."""

    __tablename__ = "partner_renewal_modes"

    mailbox_id: Mapped[str] = mapped_column(
        ForeignKey("mailboxes.id", ondelete="CASCADE"), primary_key=True
    )
    partner_id: Mapped[str] = mapped_column(ForeignKey("partners.id"))
    mode: Mapped[str] = mapped_column(String(16))
    years: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (
        CheckConstraint("mode IN ('tacit', 'at_expiry')", name="mode_known"),
        CheckConstraint("years BETWEEN 1 AND 5", name="years_in_range"),
        Index("ix_partner_renewal_modes_mode", "mode", "mailbox_id"),
    )


class ScheduledPlanChangeRow(Base):
    """A paid downgrade waiting for the mailbox's expiry (domain.md "When a plan change
    takes effect"): one per mailbox, the newest paid order's. Its own table, so a mirror
    update of the mailbox never loses it; applied and deleted by the plan-change sweep."""

    __tablename__ = "scheduled_plan_changes"

    mailbox_id: Mapped[str] = mapped_column(
        ForeignKey("mailboxes.id", ondelete="CASCADE"), primary_key=True
    )
    order_id: Mapped[str] = mapped_column(String(64))
    effective_on: Mapped[date] = mapped_column(Date, index=True)
    plan_code: Mapped[str] = mapped_column(String(32))
    extra_mailbox_gb: Mapped[int] = mapped_column(Integer)
    extra_archive_gb: Mapped[int] = mapped_column(Integer)
    deletes_archive: Mapped[bool] = mapped_column(Boolean)
    scheduled_at: Mapped[datetime] = mapped_column(UTCDateTime())


class SavedPaymentMethodRow(Base):
    """A provider's reference to a customer's saved card or PayPal account (never card
    data), kept when such a payment turned automatic renewal on: what the automatic
    renewal charges. Removing it deletes the row."""

    __tablename__ = "saved_payment_methods"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"), index=True)
    provider: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(16))
    customer_ref: Mapped[str] = mapped_column(String(255))
    method_ref: Mapped[str] = mapped_column(String(255))
    order_id: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (
        Index(
            "uq_saved_payment_methods_account_method",
            "account_id",
            "provider",
            "method_ref",
            unique=True,
        ),
    )
