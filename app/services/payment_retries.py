"""Payment events applied again: by the worker after a failure, or by staff on request.

A failure to apply is never a decision about the money. The worker retries the event
with backoff until it applies, and flags it for reconciliation only after a day of
failures. Noting a failure is its own short transaction, after the failed one rolled
back; if even that fails (the database is down), nothing is lost: the event is still
unprocessed and a later pass picks it up.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from app.db.transient import describe, is_transient
from app.domain.stored_payment_event import StoredPaymentEvent
from app.services.errors import PaymentEventAlreadyApplied, ResourceNotFound
from app.services.payments import apply_event, locked_order, process_event
from app.services.unit_of_work import UowFactory

log = logging.getLogger("app.payments")


@dataclass(frozen=True, slots=True)
class PaymentEventView:
    id: int
    provider: str
    event_id: str
    kind: str
    outcome: str | None
    reason: str | None
    order_id: str | None
    attempts: int
    last_error: str | None
    processed_at: datetime | None

    @classmethod
    def of(cls, event: StoredPaymentEvent) -> PaymentEventView:
        return cls(
            event.id, event.provider, event.event_id, event.kind, event.outcome, event.reason,
            event.order_id, event.attempts, event.last_error, event.processed_at,
        )  # fmt: skip


async def retry_due_events(
    uow_factory: UowFactory, now: datetime, straggler_age: timedelta, limit: int = 100
) -> int:
    """The worker's pass over payment events: each due one is tried once; how many."""
    async with uow_factory() as uow:
        due = await uow.payment_events.due_for_retry(now, now - straggler_age, limit)
    for event_row_id in due:
        await retry_event(uow_factory, event_row_id, now)
    return len(due)


async def retry_event(uow_factory: UowFactory, event_row_id: int, now: datetime) -> str | None:
    """Apply one stored event; on failure, note it and schedule the next try. Never
    raises: one event that can't be applied must not stop the others."""
    try:
        return await process_event(uow_factory, event_row_id, now)
    except Exception as exc:
        if is_transient(exc):
            log.warning("payment event %s: transient failure, retried later: %s",
                        event_row_id, describe(exc))  # fmt: skip
        else:
            log.exception("payment event %s can't be applied: retried later", event_row_id)
        await _note_failure(uow_factory, event_row_id, now, describe(exc))
        return None


async def _note_failure(
    uow_factory: UowFactory, event_row_id: int, now: datetime, error: str
) -> None:
    try:
        async with uow_factory() as uow:
            event = await uow.payment_events.claim_unprocessed(event_row_id)
            if event is None:  # applied after all (the commit went through), or taken
                return
            if event.note_failure(now, error):
                log.error("payment event %s failed for 24 hours: flagged", event_row_id)
            await uow.payment_events.save(event)
            await uow.commit()
    except Exception as exc:
        log.warning("payment event %s: the failure could not be noted (%s); it stays "
                    "unprocessed for a later pass", event_row_id, describe(exc))  # fmt: skip


async def apply_held_event(
    uow_factory: UowFactory, event_row_id: int, now: datetime
) -> PaymentEventView:
    """Staff apply again an event held for reconciliation (or awaiting a retry) once its
    cause is fixed; what happened. The row lock makes it exactly once."""
    async with uow_factory() as uow:
        event = await uow.payment_events.locked(event_row_id)
        if event is None:
            raise ResourceNotFound("payment_event", str(event_row_id))
        if not event.held:
            raise PaymentEventAlreadyApplied(event_row_id, event.outcome)
        event.settle_again()
        await apply_event(uow, event, await locked_order(uow, event), now)
        await uow.commit()
    return PaymentEventView.of(event)


async def reconciliation(
    uow_factory: UowFactory, limit: int, after_id: int | None
) -> tuple[list[StoredPaymentEvent], int | None]:
    """Payments held for staff, oldest first: a page, and the id to continue after."""
    async with uow_factory() as uow:
        found = await uow.payment_events.reconciliation(limit + 1, after_id)
    page = found[:limit]
    return page, (page[-1].id if len(found) > limit else None)
