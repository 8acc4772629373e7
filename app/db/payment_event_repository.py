"""Verified payment events: stored once, claimed once, reconciled when they can't apply."""

from __future__ import annotations

from dataclasses import fields
from datetime import datetime
from typing import Any

from sqlalchemy import ScalarResult, and_, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.dialect import insert_or_ignore
from app.db.mailbox_repository import MailboxRepository
from app.db.models import PaymentEventRow
from app.db.order_repository import OrderRepository
from app.domain.fulfilment_steps import Renewal
from app.domain.order_aggregate import Order
from app.domain.stored_payment_event import StoredPaymentEvent


class PaymentEventRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, values: dict[str, Any]) -> StoredPaymentEvent | None:
        """Store an event (its columns, payload included); None when (provider, event id)
        is already stored."""
        stmt = insert_or_ignore(self._session, PaymentEventRow.__table__)  # type: ignore[arg-type]
        result = await self._session.execute(stmt.returning(PaymentEventRow.id), values)
        found = result.scalar_one_or_none()
        return None if found is None else stored_as_added(int(found), values)

    async def add_locking_order(
        self, values: dict[str, Any], order_ref: str | None
    ) -> tuple[StoredPaymentEvent | None, Order | None]:
        """Store an event (see `add`) and lock the order `order_ref` names (see
        OrderRepository.by_number): (None, None) for a duplicate, whose order is left
        unlocked."""
        stored = await self.add(values)
        if stored is None or order_ref is None:
            return stored, None
        return stored, await OrderRepository(self._session).by_number(order_ref, lock=True)

    async def save(
        self,
        event: StoredPaymentEvent,
        with_order: Order | None = None,
        renewal: Renewal | None = None,
    ) -> None:
        """Write what applying (or failing to apply) the event changed, and with it what
        it changed in `with_order` (as OrderRepository.save) and the `renewal` its
        fulfilment carries out (as Mailboxes.renew_for_order)."""
        if renewal is not None:
            await MailboxRepository(self._session).renew_for_order(
                renewal.order_id, renewal.changes, renewal.told, renewal.now
            )
        if with_order is not None:
            await OrderRepository(self._session).save(with_order)
        await self._session.execute(
            update(PaymentEventRow)
            .where(PaymentEventRow.id == event.id)
            .values(mutable_values(event))
            .execution_options(synchronize_session=False)
        )

    async def claim_unprocessed(self, event_row_id: int) -> StoredPaymentEvent | None:
        """Lock the event for processing; None when it is processed (or being processed)."""
        stmt = (
            select(PaymentEventRow)
            .where(PaymentEventRow.id == event_row_id, PaymentEventRow.processed_at.is_(None))
            .with_for_update(skip_locked=True)
            .execution_options(populate_existing=True)
        )
        return _stored(await self._session.scalar(stmt))

    async def waiting_for_payment(self, order_id: str) -> list[StoredPaymentEvent]:
        """Refunds that arrived before the order's payment, oldest first, locked."""
        stmt = (
            select(PaymentEventRow)
            .where(PaymentEventRow.order_id == order_id, PaymentEventRow.outcome == "wait")
            .order_by(PaymentEventRow.id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        return _all(await self._session.scalars(stmt))

    async def reconcile_waiting(self, order_id: str, reason: str) -> None:
        await self._session.execute(
            update(PaymentEventRow)
            .where(PaymentEventRow.order_id == order_id, PaymentEventRow.outcome == "wait")
            .values(outcome="reconcile", reason=reason)
        )

    async def locked(self, event_row_id: int) -> StoredPaymentEvent | None:
        """The event, locked (waiting for a worker that holds it): staff apply it again."""
        stmt = (
            select(PaymentEventRow)
            .where(PaymentEventRow.id == event_row_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        return _stored(await self._session.scalar(stmt))

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

    async def reconciliation(self, limit: int, after_id: int | None) -> list[StoredPaymentEvent]:
        """Events held for staff and not resolved, oldest first."""
        stmt = select(PaymentEventRow).where(
            PaymentEventRow.outcome == "reconcile", PaymentEventRow.resolved_at.is_(None)
        )
        if after_id is not None:
            stmt = stmt.where(PaymentEventRow.id > after_id)
        stmt = stmt.order_by(PaymentEventRow.id).limit(limit)
        return _all(await self._session.scalars(stmt))

    async def payload_of(self, event_row_id: int) -> dict[str, Any] | None:
        """The event as the provider sent it (what it says beyond the columns)."""
        payload = await self._session.scalar(
            select(PaymentEventRow.payload).where(PaymentEventRow.id == event_row_id)
        )
        return None if payload is None else dict(payload)


_FIELDS = tuple(f.name for f in fields(StoredPaymentEvent) if f.name != "id")
MUTABLE = (
    "order_id", "outcome", "reason", "processed_at", "resolved_at", "attempts",
    "first_failed_at", "next_attempt_at", "last_error",
)  # fmt: skip


def stored_as_added(row_id: int, values: dict[str, Any]) -> StoredPaymentEvent:
    """An event just inserted from `values`, as stored: no need to read it back."""
    return StoredPaymentEvent(row_id, **{name: values[name] for name in _FIELDS if name in values})


def mutable_values(event: StoredPaymentEvent) -> dict[str, Any]:
    """The columns applying an event (or failing to) changes."""
    return {name: getattr(event, name) for name in MUTABLE}


def stored_from_row(row: PaymentEventRow | Any) -> StoredPaymentEvent:
    """From an ORM row or anything with the same attributes."""
    return StoredPaymentEvent(row.id, **{name: getattr(row, name) for name in _FIELDS})


def _stored(row: PaymentEventRow | None) -> StoredPaymentEvent | None:
    return None if row is None else stored_from_row(row)


def _all(rows: ScalarResult[PaymentEventRow]) -> list[StoredPaymentEvent]:
    return [stored_from_row(row) for row in rows]
