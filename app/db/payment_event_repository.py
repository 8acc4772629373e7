"""Verified payment events: stored once, claimed once, reconciled when they can't apply."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.dialect import insert_or_ignore
from app.db.models import PaymentEventRow


class PaymentEventRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, values: dict[str, Any]) -> int | None:
        """Store an event; its row id, or None when (provider, event id) is already stored."""
        stmt = insert_or_ignore(self._session, PaymentEventRow.__table__)  # type: ignore[arg-type]
        result = await self._session.execute(stmt.returning(PaymentEventRow.id), values)
        found = result.scalar_one_or_none()
        return None if found is None else int(found)

    async def claim_unprocessed(self, event_row_id: int) -> PaymentEventRow | None:
        """Lock the event for processing; None when it is processed (or being processed)."""
        stmt = (
            select(PaymentEventRow)
            .where(PaymentEventRow.id == event_row_id, PaymentEventRow.processed_at.is_(None))
            .with_for_update(skip_locked=True)
        )
        return await self._session.scalar(stmt)

    async def waiting_for_payment(self, order_id: str) -> list[PaymentEventRow]:
        stmt = (
            select(PaymentEventRow)
            .where(PaymentEventRow.order_id == order_id, PaymentEventRow.outcome == "wait")
            .order_by(PaymentEventRow.id)
            .with_for_update()
        )
        return list((await self._session.scalars(stmt)).all())

    async def reconcile_waiting(self, order_id: str, reason: str) -> None:
        await self._session.execute(
            update(PaymentEventRow)
            .where(PaymentEventRow.order_id == order_id, PaymentEventRow.outcome == "wait")
            .values(outcome="reconcile", reason=reason)
        )

    async def locked(self, event_row_id: int) -> PaymentEventRow | None:
        """The event, locked (waiting for a worker that holds it): staff apply it again."""
        stmt = select(PaymentEventRow).where(PaymentEventRow.id == event_row_id).with_for_update()
        return await self._session.scalar(stmt)

    async def due_for_retry(
        self, now: datetime, received_before: datetime, limit: int
    ) -> list[int]:
        """Unprocessed events whose retry is due, or that no request ever finished
        (no retry scheduled, received before `received_before`): oldest first."""
        stmt = (
            select(PaymentEventRow.id)
            .where(
                PaymentEventRow.processed_at.is_(None),
                or_(
                    PaymentEventRow.next_attempt_at <= now,
                    and_(
                        PaymentEventRow.next_attempt_at.is_(None),
                        PaymentEventRow.received_at < received_before,
                    ),
                ),
            )
            .order_by(
                func.coalesce(PaymentEventRow.next_attempt_at, PaymentEventRow.received_at),
                PaymentEventRow.id,
            )
            .limit(limit)
        )
        return list((await self._session.scalars(stmt)).all())

    async def reconciliation(self, limit: int, after_id: int | None) -> list[PaymentEventRow]:
        stmt = select(PaymentEventRow).where(
            PaymentEventRow.outcome == "reconcile", PaymentEventRow.resolved_at.is_(None)
        )
        if after_id is not None:
            stmt = stmt.where(PaymentEventRow.id > after_id)
        stmt = stmt.order_by(PaymentEventRow.id).limit(limit)
        return list((await self._session.scalars(stmt)).all())
