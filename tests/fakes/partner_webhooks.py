"""In-memory partner webhook endpoints and delivery log."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from app.domain.partner_webhook import PENDING, DeliveryAttempt, PartnerEvent, WebhookDelivery
from app.domain.webhook_endpoint import WebhookEndpoint
from tests.fakes.tables import Sequences, Tables


class FakePartnerWebhooks:
    def __init__(self, tables: Tables, sequences: Sequences) -> None:
        self._tables = tables
        self._sequences = sequences

    async def endpoint(self, partner_id: str) -> WebhookEndpoint | None:
        return self._tables.webhook_endpoints.get(partner_id)

    async def save_endpoint(self, endpoint: WebhookEndpoint) -> WebhookEndpoint:
        old = self._tables.webhook_endpoints.get(endpoint.partner_id)
        stored = replace(endpoint, created_at=old.created_at) if old else endpoint
        self._tables.webhook_endpoints[endpoint.partner_id] = stored
        return stored

    async def delete_endpoint(self, partner_id: str) -> bool:
        return self._tables.webhook_endpoints.pop(partner_id, None) is not None

    async def open_delivery(self, event: PartnerEvent, now: datetime) -> WebhookDelivery:
        deliveries = self._tables.webhook_deliveries
        if event.id not in deliveries:
            deliveries[event.id] = WebhookDelivery(
                self._sequences.next_webhook_delivery_id(),
                event.id,
                event.partner_id,
                event.type,
                event.body,
                PENDING,
                0,
                None,
                now,
                now,
            )
        return deliveries[event.id]

    async def delivery(
        self,
        partner_id: str,
        event_id: str,
        *,
        lock: bool = False,  # noqa: ARG002
    ) -> WebhookDelivery | None:
        found = self._tables.webhook_deliveries.get(event_id)
        return found if found is not None and found.partner_id == partner_id else None

    async def save_delivery(self, delivery: WebhookDelivery) -> None:
        self._tables.webhook_deliveries[delivery.event_id] = delivery

    async def add_attempt(self, delivery_id: int, attempt: DeliveryAttempt) -> None:
        self._tables.webhook_attempts.setdefault(delivery_id, []).append(attempt)

    async def deliveries(
        self,
        partner_id: str,
        limit: int,
        before_id: int | None = None,
        status: str | None = None,
        event_type: str | None = None,
    ) -> list[WebhookDelivery]:
        found = [
            d
            for d in self._tables.webhook_deliveries.values()
            if d.partner_id == partner_id
            and (before_id is None or d.id < before_id)
            and (status is None or d.status == status)
            and (event_type is None or d.event_type == event_type)
        ]
        return sorted(found, key=lambda d: d.id, reverse=True)[:limit]

    async def attempts(
        self, delivery_ids: Sequence[int], latest: int
    ) -> dict[int, list[DeliveryAttempt]]:
        return {i: self._tables.webhook_attempts.get(i, [])[-latest:] for i in delivery_ids}
