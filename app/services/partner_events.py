"""Events for partners: queued in the business transaction, delivered as signed webhooks.

A partner hears of what happens to the mailboxes and orders it manages (api.md, Outgoing
webhooks). The event is queued in the outbox in the same transaction as the change it
reports, so it is sent if and only if the change happened; its id is derived from what
happened (`key`), so a step retried after a crash queues nothing new and the partner,
who dedupes on the id, sees it once.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any, Literal

from app.domain.outgoing_message import OutgoingMessage
from app.services.unit_of_work import UnitOfWorkProtocol

PARTNER_WEBHOOK = "partner_webhook"

PartnerEventType = Literal[
    "renewal.completed",
    "order.expired",
    "payment.failed",
    "mailbox.expiring",
    "mailbox.deleted",
    "credit.low",
]


def event_id(event_type: str, key: str) -> str:
    """A stable id for one event: the same happening always gets the same id."""
    digest = hashlib.sha256(f"{event_type}\x00{key}".encode()).hexdigest()[:32]
    return f"evt_{digest}"


async def notify_partner(
    uow: UnitOfWorkProtocol,
    partner_id: str,
    event_type: PartnerEventType,
    key: str,
    data: dict[str, Any],
    now: datetime,
) -> str:
    """Queue `event_type` for the partner; `key` names the happening (e.g. an order id,
    or a mailbox id and an expiry date). Returns the event's id."""
    message = partner_event(partner_id, event_type, key, data, now)
    await uow.outbox.add(*message, now)
    return str(message.payload["id"])


def partner_event(
    partner_id: str, event_type: PartnerEventType, key: str, data: dict[str, Any], now: datetime
) -> OutgoingMessage:
    """The outbox message telling the partner of `event_type` (see notify_partner), to
    queue with others in one write."""
    identifier = event_id(event_type, key)
    payload = {
        "partner_id": partner_id,
        "id": identifier,
        "type": event_type,
        "timestamp": now.isoformat(),
        "data": data,
    }
    return OutgoingMessage(PARTNER_WEBHOOK, f"partner-event:{identifier}", payload)
