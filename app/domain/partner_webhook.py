"""Delivering one partner event: its log entry, each attempt, and the retry policy.

One delivery per event (its id is the event's id, what the partner dedupes on). It is
`pending` until an attempt answers 2xx (`delivered`), or until an attempt fails 24 hours
or more after the first one (`failed`: given up). With no endpoint set when it is due it
is `skipped`: not kept for later, so a partner that sets an endpoint is not flooded
with old news; it can redeliver what it wants from the log. A redelivery starts a new
round (a fresh 24 hours); messages of an older round still queued are then dropped.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

PENDING, DELIVERED, FAILED, SKIPPED = "pending", "delivered", "failed", "skipped"
STATUSES = (PENDING, DELIVERED, FAILED, SKIPPED)

RETRY_WINDOW = timedelta(hours=24)
FIRST_RETRY = timedelta(minutes=1)
LONGEST_RETRY = timedelta(hours=4)


def retry_delay(attempts: int) -> timedelta:
    """After the n-th failed attempt: 1 min, 2, 4 … doubling, at most 4 hours: 14
    attempts in all, the last one 24 h 15 min after the first."""
    delay: timedelta = FIRST_RETRY * (2 ** min(max(attempts - 1, 0), 20))
    return min(delay, LONGEST_RETRY)


@dataclass(frozen=True, slots=True)
class PartnerEvent:
    """An event as notify_partner queued it, plus the delivery round it is for."""

    partner_id: str
    id: str
    type: str
    timestamp: str
    data: dict[str, Any]
    round: int = 0

    @classmethod
    def of(cls, payload: dict[str, Any]) -> PartnerEvent:
        return cls(
            partner_id=str(payload["partner_id"]),
            id=str(payload["id"]),
            type=str(payload["type"]),
            timestamp=str(payload["timestamp"]),
            data=dict(payload.get("data") or {}),
            round=int(payload.get("round", 0)),
        )

    @property
    def body(self) -> dict[str, Any]:
        """What the partner receives (its own id is implied by the endpoint)."""
        return {"id": self.id, "type": self.type, "timestamp": self.timestamp, "data": self.data}

    def encoded(self) -> str:
        """The exact text that is signed and sent."""
        return json.dumps(self.body, separators=(",", ":"), ensure_ascii=False, sort_keys=True)

    def payload(self) -> dict[str, Any]:
        """Back into an outbox payload (for a redelivery's message)."""
        return {"partner_id": self.partner_id, **self.body, "round": self.round}


@dataclass(frozen=True, slots=True)
class DeliveryAttempt:
    """One POST to the partner: when, where, and what came of it."""

    attempted_at: datetime
    url: str
    status_code: int | None  # None: no HTTP answer (refused address, timeout…)
    error: str | None
    duration_ms: int

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


@dataclass(frozen=True, slots=True)
class WebhookDelivery:
    id: int
    event_id: str
    partner_id: str
    event_type: str
    body: dict[str, Any]
    status: str
    round: int
    round_started_at: datetime | None  # the first attempt of this round
    created_at: datetime
    updated_at: datetime
    attempt_count: int = 0

    def started(self, now: datetime) -> WebhookDelivery:
        if self.round_started_at is not None:
            return self
        return replace(self, round_started_at=now, updated_at=now)

    def skipped(self, now: datetime) -> WebhookDelivery:
        return replace(self, status=SKIPPED, updated_at=now)

    def after(self, attempt: DeliveryAttempt) -> WebhookDelivery:
        """The state once `attempt` is over: delivered, given up, or still pending."""
        now = attempt.attempted_at
        counted = replace(self, attempt_count=self.attempt_count + 1, updated_at=now)
        if attempt.succeeded:
            return replace(counted, status=DELIVERED)
        started = self.round_started_at or now
        if now - started >= RETRY_WINDOW:
            return replace(counted, status=FAILED)
        return counted

    def redelivered(self, now: datetime) -> WebhookDelivery:
        return replace(
            self, status=PENDING, round=self.round + 1, round_started_at=None, updated_at=now
        )
