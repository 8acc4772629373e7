"""A message for the outside world (mail platform, partner, email), queued in the outbox
in the transaction that decided it and delivered later, once per dedupe key."""

from __future__ import annotations

from typing import Any, NamedTuple


class OutgoingMessage(NamedTuple):
    kind: str  # who delivers it: app/services/outbox_delivery.py's deliverers
    dedupe_key: str  # queued once: the receiver dedupes on it too
    payload: dict[str, Any]
