"""Partner webhooks in the database: each partner's endpoint, the delivery log, attempts."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.dialect import insert_or_ignore
from app.db.models import (
    PartnerWebhookAttemptRow,
    PartnerWebhookDeliveryRow,
    PartnerWebhookEndpointRow,
)
from app.domain.partner_webhook import (
    PENDING,
    DeliveryAttempt,
    PartnerEvent,
    WebhookDelivery,
)
from app.domain.webhook_endpoint import WebhookEndpoint


class PartnerWebhookRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    # --- the endpoint ---------------------------------------------------------------------

    async def endpoint(self, partner_id: str) -> WebhookEndpoint | None:
        row = await self._session.get(PartnerWebhookEndpointRow, partner_id, populate_existing=True)
        if row is None:
            return None
        return WebhookEndpoint(row.partner_id, row.url, row.secret, row.created_at, row.updated_at)

    async def save_endpoint(self, endpoint: WebhookEndpoint) -> WebhookEndpoint:
        """Create or replace it (keeping when it was first created); the stored one."""
        stmt = insert_or_ignore(self._session, PartnerWebhookEndpointRow.__table__)  # type: ignore[arg-type]
        values = {"url": endpoint.url, "secret": endpoint.secret, "updated_at": endpoint.updated_at}
        inserted = await self._session.execute(
            stmt,
            {"partner_id": endpoint.partner_id, "created_at": endpoint.created_at, **values},
        )
        if not inserted.rowcount:  # type: ignore[attr-defined]
            await self._session.execute(
                update(PartnerWebhookEndpointRow)
                .where(PartnerWebhookEndpointRow.partner_id == endpoint.partner_id)
                .values(values)
            )
        stored = await self.endpoint(endpoint.partner_id)
        assert stored is not None
        return stored

    async def delete_endpoint(self, partner_id: str) -> bool:
        deleted = await self._session.execute(
            delete(PartnerWebhookEndpointRow).where(
                PartnerWebhookEndpointRow.partner_id == partner_id
            )
        )
        return bool(deleted.rowcount)  # type: ignore[attr-defined]

    # --- the delivery log -----------------------------------------------------------------

    async def open_delivery(self, event: PartnerEvent, now: datetime) -> WebhookDelivery:
        """The event's delivery, created pending on its first attempt; locked."""
        stmt = insert_or_ignore(self._session, PartnerWebhookDeliveryRow.__table__, on="event_id")  # type: ignore[arg-type]
        await self._session.execute(
            stmt,
            {
                "event_id": event.id,
                "partner_id": event.partner_id,
                "event_type": event.type,
                "body": event.body,
                "status": PENDING,
                "round": 0,
                "attempt_count": 0,
                "created_at": now,
                "updated_at": now,
            },
        )
        found = await self.delivery(event.partner_id, event.id, lock=True)
        assert found is not None
        return found

    async def delivery(
        self, partner_id: str, event_id: str, *, lock: bool = False
    ) -> WebhookDelivery | None:
        stmt = select(PartnerWebhookDeliveryRow).where(
            PartnerWebhookDeliveryRow.event_id == event_id,
            PartnerWebhookDeliveryRow.partner_id == partner_id,
        )
        if lock:
            stmt = stmt.with_for_update()
        row = await self._session.scalar(stmt.execution_options(populate_existing=True))
        return _delivery(row) if row is not None else None

    async def save_delivery(self, delivery: WebhookDelivery) -> None:
        await self._session.execute(
            update(PartnerWebhookDeliveryRow)
            .where(PartnerWebhookDeliveryRow.id == delivery.id)
            .values(
                status=delivery.status,
                round=delivery.round,
                round_started_at=delivery.round_started_at,
                attempt_count=delivery.attempt_count,
                updated_at=delivery.updated_at,
            )
        )

    async def add_attempt(self, delivery_id: int, attempt: DeliveryAttempt) -> None:
        self._session.add(
            PartnerWebhookAttemptRow(
                delivery_id=delivery_id,
                attempted_at=attempt.attempted_at,
                url=attempt.url,
                status_code=attempt.status_code,
                error=attempt.error[:500] if attempt.error else None,
                duration_ms=attempt.duration_ms,
            )
        )
        await self._session.flush()

    async def deliveries(
        self,
        partner_id: str,
        limit: int,
        before_id: int | None = None,
        status: str | None = None,
        event_type: str | None = None,
    ) -> list[WebhookDelivery]:
        """The partner's deliveries, newest first (by id: ids grow with time)."""
        stmt = select(PartnerWebhookDeliveryRow).where(
            PartnerWebhookDeliveryRow.partner_id == partner_id
        )
        if before_id is not None:
            stmt = stmt.where(PartnerWebhookDeliveryRow.id < before_id)
        if status is not None:
            stmt = stmt.where(PartnerWebhookDeliveryRow.status == status)
        if event_type is not None:
            stmt = stmt.where(PartnerWebhookDeliveryRow.event_type == event_type)
        rows = await self._session.scalars(
            stmt.order_by(PartnerWebhookDeliveryRow.id.desc()).limit(limit)
        )
        return [_delivery(row) for row in rows]

    async def attempts(
        self, delivery_ids: Sequence[int], latest: int
    ) -> dict[int, list[DeliveryAttempt]]:
        """The `latest` attempts of each delivery, oldest first."""
        if not delivery_ids:
            return {}
        attempt = PartnerWebhookAttemptRow
        position = (
            func.row_number()
            .over(partition_by=attempt.delivery_id, order_by=attempt.id.desc())
            .label("position")
        )
        ranked = (
            select(attempt.id, position).where(attempt.delivery_id.in_(delivery_ids)).subquery()
        )
        rows = await self._session.scalars(
            select(attempt)
            .join(ranked, ranked.c.id == attempt.id)
            .where(ranked.c.position <= latest)
            .order_by(attempt.id)
        )
        found: dict[int, list[DeliveryAttempt]] = {i: [] for i in delivery_ids}
        for row in rows:
            found[row.delivery_id].append(
                DeliveryAttempt(
                    row.attempted_at, row.url, row.status_code, row.error, row.duration_ms
                )
            )
        return found


def _delivery(row: PartnerWebhookDeliveryRow) -> WebhookDelivery:
    return WebhookDelivery(
        id=row.id,
        event_id=row.event_id,
        partner_id=row.partner_id,
        event_type=row.event_type,
        body=dict(row.body),
        status=row.status,
        round=row.round,
        round_started_at=row.round_started_at,
        created_at=row.created_at,
        updated_at=row.updated_at,
        attempt_count=row.attempt_count,
    )
