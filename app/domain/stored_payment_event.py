"""A verified payment event as stored: what it did, or why it is still to be applied.

Stored before it is acknowledged, applied once (`processed_at`), or held for staff with
a reason (`outcome` "reconcile"). A failure to apply is retried with backoff
(payment_retry) and held only after a day of failures.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from app.domain.payment_registration import Action, PaymentEvent, PaymentEventKind
from app.domain.payment_retry import next_attempt


def is_tracked(kind: str) -> bool:
    """An event of this kind is about money we track: a payment, a failure or a refund."""
    return kind in _TRACKED


_TRACKED = frozenset(PaymentEventKind)


@dataclass(slots=True)
class StoredPaymentEvent:
    id: int
    provider: str
    event_id: str
    kind: str  # a PaymentEventKind, or what the provider sent that we don't track
    order_ref: str | None
    amount_cents: int | None
    currency: str
    occurred_at: datetime
    received_at: datetime
    order_id: str | None = None
    outcome: str | None = None
    reason: str | None = None
    processed_at: datetime | None = None
    resolved_at: datetime | None = None
    attempts: int = 0
    first_failed_at: datetime | None = None
    next_attempt_at: datetime | None = None
    last_error: str | None = None

    @property
    def tracked(self) -> bool:
        """About money we track: a payment, a failure or a refund."""
        return is_tracked(self.kind)

    @property
    def cumulative(self) -> bool:
        # Stripe's charge.refunded reports the charge's refunded total, not this refund.
        return self.provider == "stripe" and self.kind == PaymentEventKind.REFUNDED.value

    @property
    def held(self) -> bool:
        """Waiting for a retry, or held for reconciliation, and not resolved by staff."""
        unapplied = self.processed_at is None or self.outcome == Action.RECONCILE.value
        return unapplied and self.resolved_at is None

    def event(self) -> PaymentEvent:
        """The event as decide() reads it (only for a tracked kind)."""
        return PaymentEvent(
            self.provider,
            self.event_id,
            PaymentEventKind(self.kind),
            self.order_ref,
            self.amount_cents,
            self.currency,
            self.occurred_at,
            cumulative=self.cumulative,
        )

    def settle(self, outcome: str, reason: str | None) -> str:
        """Record what applying it did; the outcome."""
        self.outcome = outcome
        self.reason = reason
        return outcome

    def settle_again(self) -> None:
        """Staff apply a held event again: what it did before no longer stands."""
        self.outcome = self.reason = None

    def processed(self, now: datetime) -> None:
        self.processed_at = now
        self.next_attempt_at = None

    def note_failure(self, now: datetime, error: str) -> bool:
        """Count a failed attempt and schedule the next; True when it has failed for so
        long (24 hours) that it goes to reconciliation instead, the last error kept."""
        self.attempts += 1
        self.first_failed_at = self.first_failed_at or now
        self.last_error = error
        self.next_attempt_at = next_attempt(self.attempts, self.first_failed_at, now)
        if self.next_attempt_at is not None:
            return False
        self.settle(Action.RECONCILE.value, "processing_failed")
        self.processed_at = now
        return True
