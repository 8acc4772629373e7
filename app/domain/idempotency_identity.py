"""Which request an Idempotency-Key belongs to: the same key from another caller, or for
another operation, is another key."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class IdempotencyIdentity:
    owner_role: str
    owner_id: str
    operation: str
    key: str

    def columns(self) -> dict[str, Any]:
        """The identity as the idempotency record's columns, by name."""
        return {
            "owner_role": self.owner_role,
            "owner_id": self.owner_id,
            "operation": self.operation,
            "key": self.key,
        }


@dataclass(frozen=True, slots=True)
class IdempotencyClaim:
    """A request's claim on its key, made before anything else it writes: what it asks
    (its fingerprint), and when."""

    identity: IdempotencyIdentity
    fingerprint: str
    now: datetime
