"""What partners send and read about their webhook endpoint and delivery log."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from app.domain.partner_webhook import DeliveryAttempt
from app.domain.webhook_endpoint import MAX_URL_LENGTH, WebhookEndpoint
from app.services.partner_webhook_delivery import LoggedDelivery

DeliveryStatus = Literal["pending", "delivered", "failed", "skipped"]
EventType = Literal[
    "renewal.completed",
    "order.expired",
    "payment.failed",
    "mailbox.expiring",
    "mailbox.deleted",
    "credit.low",
]
_EXAMPLE_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


class WebhookEndpointIn(BaseModel):
    model_config = ConfigDict(
        strict=True,
        extra="forbid",
        json_schema_extra={"examples": [{"url": "https://hooks.reseller.example/pec"}]},
    )

    url: str = Field(
        min_length=1,
        max_length=MAX_URL_LENGTH,
        description="Where events are POSTed: https, on a public address.",
    )
    secret: str | None = Field(
        default=None,
        max_length=200,
        description="Your Standard Webhooks secret (`whsec_` + base64 of 24 to 64 random "
        "bytes). Leave it out and we generate one, shown once in this answer.",
    )


class WebhookEndpointOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "url": "https://hooks.reseller.example/pec",
                    "secret": _EXAMPLE_SECRET,
                    "secret_hint": "whsec_…aSw",
                    "created_at": "2026-12-01T17:45:19Z",
                    "updated_at": "2026-12-01T17:45:19Z",
                }
            ]
        }
    )

    url: str = Field(description="Where events are POSTed.")
    secret: str | None = Field(
        description="The secret we generated: present only in the answer that generated "
        "it, so keep it now. Null otherwise."
    )
    secret_hint: str = Field(description="The secret's last characters, to tell secrets apart.")
    created_at: datetime = Field(description="When the endpoint was first set (UTC).")
    updated_at: datetime = Field(description="When it was last replaced (UTC).")

    @classmethod
    def of(cls, endpoint: WebhookEndpoint, generated: str | None = None) -> WebhookEndpointOut:
        return cls(
            url=endpoint.url,
            secret=generated,
            secret_hint=endpoint.secret_hint,
            created_at=endpoint.created_at,
            updated_at=endpoint.updated_at,
        )


class DeliveryAttemptOut(BaseModel):
    attempted_at: datetime = Field(description="When we POSTed (UTC).")
    url: str = Field(description="The endpoint it went to.")
    status_code: int | None = Field(
        description="Your HTTP status; null when there was no answer (see `error`)."
    )
    error: str | None = Field(
        description="Why there was no answer: `timeout…`, `connection_failed…`, "
        "`address_not_public…` (the name resolved to a private address), `dns_failed…`, "
        "`not_https`. Null when you answered."
    )
    duration_ms: int = Field(description="How long the attempt took, milliseconds.")
    succeeded: bool = Field(description="True for a 2xx answer.")

    @classmethod
    def of(cls, attempt: DeliveryAttempt) -> DeliveryAttemptOut:
        return cls(
            attempted_at=attempt.attempted_at,
            url=attempt.url,
            status_code=attempt.status_code,
            error=attempt.error,
            duration_ms=attempt.duration_ms,
            succeeded=attempt.succeeded,
        )


_DELIVERY_EXAMPLE: dict[str, Any] = {
    "id": "evt_6f1c2a9d0b3e4f5a8c7d6e5f4a3b2c1d",
    "type": "renewal.completed",
    "status": "delivered",
    "event": {
        "id": "evt_6f1c2a9d0b3e4f5a8c7d6e5f4a3b2c1d",
        "type": "renewal.completed",
        "timestamp": "2026-12-01T17:45:19+00:00",
        "data": {"mailbox_id": "mbx-1", "order_id": "ord_54bf8a4244d240fcb1b09145879ae2e8"},
    },
    "redeliveries": 0,
    "attempt_count": 2,
    "attempts": [
        {
            "attempted_at": "2026-12-01T17:45:20Z",
            "url": "https://hooks.reseller.example/pec",
            "status_code": 503,
            "error": None,
            "duration_ms": 120,
            "succeeded": False,
        },
        {
            "attempted_at": "2026-12-01T17:46:20Z",
            "url": "https://hooks.reseller.example/pec",
            "status_code": 200,
            "error": None,
            "duration_ms": 85,
            "succeeded": True,
        },
    ],
    "created_at": "2026-12-01T17:45:20Z",
    "updated_at": "2026-12-01T17:46:20Z",
}


class WebhookDeliveryOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [_DELIVERY_EXAMPLE]})

    id: str = Field(description="The event's id (`evt_…`), the `webhook-id` we send.")
    type: EventType = Field(description="The event type.")
    status: DeliveryStatus = Field(
        description="`pending` (being tried: retried with backoff for 24 hours), "
        "`delivered` (you answered 2xx), `failed` (given up after 24 hours), `skipped` "
        "(no endpoint was set when it was due)."
    )
    event: dict[str, Any] = Field(
        description="The body we send: `id`, `type`, `timestamp`, `data`."
    )
    redeliveries: int = Field(description="How many times you asked for a redelivery.")
    attempt_count: int = Field(description="Attempts in all, every round.")
    attempts: list[DeliveryAttemptOut] = Field(
        description="The latest attempts (at most 50), oldest first."
    )
    created_at: datetime = Field(description="When it was first due (UTC).")
    updated_at: datetime = Field(description="When its status last changed (UTC).")

    @classmethod
    def of(cls, logged: LoggedDelivery) -> WebhookDeliveryOut:
        delivery = logged.delivery
        return cls(
            id=delivery.event_id,
            type=delivery.event_type,
            status=delivery.status,
            event=delivery.body,
            redeliveries=delivery.round,
            attempt_count=delivery.attempt_count,
            attempts=[DeliveryAttemptOut.of(a) for a in logged.attempts],
            created_at=delivery.created_at,
            updated_at=delivery.updated_at,
        )


class WebhookDeliveryPage(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"items": [_DELIVERY_EXAMPLE], "next_cursor": None}]}
    )

    items: list[WebhookDeliveryOut] = Field(description="Newest first.")
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null on the last page."
    )
