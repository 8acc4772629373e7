"""Delivering partner events (outbox kind `partner_webhook`), the log, and redelivery.

The worker hands each due message to `PartnerWebhookDeliverer`. Every attempt is
logged, whatever its outcome. A failed attempt raises, and the outbox retries the
message on the partner policy (app.domain.partner_webhook.retry_delay); once the round's
24 hours are over, the delivery is `failed` and the deliverer returns normally, so the
outbox is done with it (for this kind, the outbox's delivered_at means "settled": the
log says how). See app.domain.partner_webhook for the statuses and rounds.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from app.domain.errors import DomainError
from app.domain.partner_webhook import (
    PENDING,
    DeliveryAttempt,
    PartnerEvent,
    WebhookDelivery,
)
from app.domain.webhook_endpoint import WebhookEndpoint
from app.services.errors import ResourceNotFound
from app.services.partner_events import PARTNER_WEBHOOK
from app.services.unit_of_work import UnitOfWorkProtocol, UowFactory

ATTEMPTS_SHOWN = 50  # per delivery in the log: the latest ones


class Outcome(Protocol):
    @property
    def status_code(self) -> int | None: ...
    @property
    def error(self) -> str | None: ...
    @property
    def duration_ms(self) -> int: ...


class Send(Protocol):
    async def __call__(self, url: str, secret: str, event_id: str, body: str) -> Outcome: ...


class PartnerWebhookFailed(Exception):
    """This attempt failed and the round's 24 hours are not over: retry later."""


class WebhookEndpointNotSet(DomainError):
    """Nothing to redeliver to: the partner has no endpoint."""

    code = "webhook_endpoint_not_set"


@dataclass(frozen=True, slots=True)
class PartnerWebhookDeliverer:
    uow_factory: UowFactory
    send: Send
    clock: Callable[[], datetime]

    async def __call__(self, dedupe_key: str, payload: dict[str, Any]) -> None:  # noqa: ARG002
        event = PartnerEvent.of(payload)
        now = self.clock()
        async with self.uow_factory() as uow:
            delivery = await uow.partner_webhooks.open_delivery(event, now)
            if delivery.round != event.round or delivery.status != PENDING:
                return  # settled already, or superseded by a redelivery
            endpoint = await uow.partner_webhooks.endpoint(event.partner_id)
            if endpoint is None:
                await uow.partner_webhooks.save_delivery(delivery.skipped(now))
                await uow.commit()
                return
            await uow.partner_webhooks.save_delivery(delivery.started(now))
            await uow.commit()
        attempt = await self._attempt(endpoint, event, now)
        async with self.uow_factory() as uow:
            current = await uow.partner_webhooks.delivery(event.partner_id, event.id, lock=True)
            assert current is not None  # deliveries are never deleted
            await uow.partner_webhooks.add_attempt(current.id, attempt)
            settled = current.round != event.round or current.status != PENDING
            if not settled:
                current = current.after(attempt)
            await uow.partner_webhooks.save_delivery(current)
            await uow.commit()
        if not settled and current.status == PENDING:
            raise PartnerWebhookFailed(attempt.error or f"HTTP {attempt.status_code}")

    async def _attempt(
        self, endpoint: WebhookEndpoint, event: PartnerEvent, now: datetime
    ) -> DeliveryAttempt:
        outcome = await self.send(endpoint.url, endpoint.secret, event.id, event.encoded())
        return DeliveryAttempt(
            now, endpoint.url, outcome.status_code, outcome.error, outcome.duration_ms
        )


@dataclass(frozen=True, slots=True)
class LoggedDelivery:
    delivery: WebhookDelivery
    attempts: list[DeliveryAttempt]  # the latest, oldest first


@dataclass(frozen=True, slots=True)
class DeliveryLog:
    items: list[LoggedDelivery]  # newest first
    next_before_id: int | None


async def delivery_log(
    uow: UnitOfWorkProtocol,
    partner_id: str,
    limit: int,
    before_id: int | None = None,
    status: str | None = None,
    event_type: str | None = None,
) -> DeliveryLog:
    async with uow:
        found = await uow.partner_webhooks.deliveries(
            partner_id, limit + 1, before_id, status, event_type
        )
        page = found[:limit]
        attempts = await uow.partner_webhooks.attempts([d.id for d in page], ATTEMPTS_SHOWN)
    items = [LoggedDelivery(d, attempts.get(d.id, [])) for d in page]
    return DeliveryLog(items, page[-1].id if len(found) > limit else None)


async def redeliver(
    uow: UnitOfWorkProtocol, partner_id: str, event_id: str, now: datetime
) -> LoggedDelivery:
    """Queue the event again, due now, for a new round of 24 hours of retries."""
    async with uow:
        delivery = await uow.partner_webhooks.delivery(partner_id, event_id, lock=True)
        if delivery is None:
            raise ResourceNotFound("webhook_delivery", event_id)
        if await uow.partner_webhooks.endpoint(partner_id) is None:
            raise WebhookEndpointNotSet(partner_id)
        again = delivery.redelivered(now)
        await uow.partner_webhooks.save_delivery(again)
        event = PartnerEvent(
            partner_id,
            again.event_id,
            again.event_type,
            str(again.body.get("timestamp", "")),
            dict(again.body.get("data") or {}),
            again.round,
        )
        key = f"partner-event:{event.id}:round:{again.round}"
        await uow.outbox.add(PARTNER_WEBHOOK, key, event.payload(), now)
        attempts = await uow.partner_webhooks.attempts([again.id], ATTEMPTS_SHOWN)
        await uow.commit()
    return LoggedDelivery(again, attempts[again.id])
