"""Delivering the outbox: claim due messages, send each, record the result.

Safe with N workers (claims are leases taken with SKIP LOCKED on PostgreSQL); a failed
delivery is retried with exponential backoff, capped, and never dropped.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from app.domain import partner_webhook
from app.services.confirmation_email import EMAIL, worded
from app.services.fulfilment import MAIL_PLATFORM
from app.services.partner_events import PARTNER_WEBHOOK
from app.services.unit_of_work import UnitOfWorkProtocol

log = logging.getLogger("app.outbox")

# A claim must outlive its batch's slowest delivery (SMTP times out at 15 s, HTTP at 10 s),
# or another worker takes the message again mid-way.
BATCH = 5
LEASE = timedelta(seconds=120)
FIRST_RETRY = timedelta(seconds=5)
LONGEST_RETRY = timedelta(hours=1)

Deliver = Callable[[str, dict[str, Any]], Awaitable[None]]
RetryPolicy = Callable[[int], timedelta]  # attempts so far -> wait before the next


async def _not_configured(dedupe_key: str, payload: dict[str, Any]) -> None:  # noqa: ARG001
    raise RuntimeError("no deliverer for this kind")


@dataclass(frozen=True, slots=True)
class Deliverers:
    email: Deliver
    mail_platform: Deliver
    partner_webhook: Deliver = _not_configured

    def for_kind(self, kind: str) -> Deliver:
        return {
            EMAIL: self.email,
            MAIL_PLATFORM: self.mail_platform,
            PARTNER_WEBHOOK: self.partner_webhook,
        }[kind]


@dataclass(frozen=True, slots=True)
class DeliveryReport:
    delivered: int
    failed: int


def retry_delay(attempts: int) -> timedelta:
    """5 s, 10 s, 20 s … doubling, at most an hour."""
    delay: timedelta = FIRST_RETRY * (2 ** min(max(attempts - 1, 0), 20))
    return min(delay, LONGEST_RETRY)


# Kinds with their own retry policy; the others use retry_delay. A partner webhook's
# deliverer gives up by itself after 24 hours (app.services.partner_webhook_delivery).
RETRY_POLICIES: dict[str, RetryPolicy] = {PARTNER_WEBHOOK: partner_webhook.retry_delay}


def retry_delay_for(kind: str, attempts: int) -> timedelta:
    return RETRY_POLICIES.get(kind, retry_delay)(attempts)


async def deliver_due(
    uow_factory: Callable[[], UnitOfWorkProtocol],
    deliverers: Deliverers,
    now: datetime,
    batch: int = BATCH,
) -> DeliveryReport:
    async with uow_factory() as uow:
        claimed = await uow.outbox.claim_due(now, batch, LEASE)
        await uow.commit()  # the lease is taken; delivery happens outside the transaction
    delivered = failed = 0
    for message in claimed:
        try:
            # An email queued as facts is worded now, off the request that queued it.
            payload = worded(message.payload) if message.kind == EMAIL else message.payload
            await deliverers.for_kind(message.kind)(message.dedupe_key, payload)
        except Exception as exc:  # any failure of the outside world: retry later
            failed += 1
            log.warning(
                "outbox delivery failed",
                extra={"outbox_id": message.id, "kind": message.kind, "error": str(exc)},
            )
            async with uow_factory() as uow:
                retry_at = now + retry_delay_for(message.kind, message.attempts)
                await uow.outbox.failed(message.id, f"{type(exc).__name__}: {exc}", retry_at)
                await uow.commit()
            continue
        delivered += 1
        async with uow_factory() as uow:
            await uow.outbox.delivered(message.id, now)
            await uow.commit()
    return DeliveryReport(delivered, failed)
