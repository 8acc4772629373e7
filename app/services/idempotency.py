"""One way to honour Idempotency-Key on every POST that creates something.

A keyed request claims (owner, operation, key) in the use case's transaction before doing
anything; the answer it sends is stored before the commit. A retry with the same key
and the same request gets that first answer back, exactly, whatever happened to the
resource since; the same key with another request is `idempotency_key_reused`. The
request is compared on a canonical form of what was validated (sorted JSON without the
fields left at their defaults), so a release that adds an optional field doesn't turn a
client's retry into a conflict. An error rolls the claim back with everything else: a
retry after a refusal runs again.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson

from app.domain.access import Principal
from app.domain.idempotency_identity import IdempotencyClaim, IdempotencyIdentity
from app.domain.outgoing_message import OutgoingMessage
from app.services.errors import IdempotencyKeyRequired, IdempotencyKeyReused
from app.services.unit_of_work import IdempotencyRecord, UnitOfWorkProtocol


def fingerprint(request: Mapping[str, Any]) -> str:
    """sha256 of the canonical JSON of a validated request (defaults left out): sorted
    keys, no spaces, UTF-8. orjson writes the same bytes as `json.dumps(sort_keys=True,
    separators=(",", ":"), ensure_ascii=False)` for what a validated request holds
    (strings, integers, booleans, null, lists, objects; no floats), in a fraction of the
    time; the json module takes what orjson refuses (an integer beyond 64 bits)."""
    try:
        canonical = orjson.dumps(request, option=orjson.OPT_SORT_KEYS)
    except TypeError:
        text = json.dumps(request, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        canonical = text.encode()
    return hashlib.sha256(canonical).hexdigest()


@dataclass(frozen=True, slots=True)
class Answer:
    """What the first request answered: sent again, as is, to every retry."""

    status_code: int
    body: dict[str, Any]
    replayed: bool


@dataclass(frozen=True, slots=True)
class IdempotentRequest:
    """Who asks for what, under which key (None: the client sent none)."""

    owner: Principal
    operation: str
    key: str | None
    # The request's canonical hash (`fingerprint`), which only a key is compared against:
    # None without one (a quote without a key is stored without it).
    fingerprint: str | None

    def require_key(self) -> None:
        """Anything that moves money refuses to run without a key."""
        if self.key is None:
            raise IdempotencyKeyRequired(self.operation)

    async def earlier_answer(self, uow: UnitOfWorkProtocol, now: datetime) -> Answer | None:
        """Claim the key in `uow`'s transaction; the first answer when it was used before.

        A concurrent first request holding the key makes this wait until it commits.
        """
        if self.key is None:
            return None
        claim = self.claim(now)
        earlier = await uow.idempotency.claim(claim.identity, claim.fingerprint, claim.now)
        return None if earlier is None else self.replay(earlier)

    def claim(self, now: datetime) -> IdempotencyClaim:
        """The claim on the key (there must be one), for a repository that makes it
        alongside its own read (Quotes.to_order_claiming)."""
        assert self.fingerprint is not None  # computed whenever there is a key
        return IdempotencyClaim(self._identity(), self.fingerprint, now)

    def replay(self, earlier: IdempotencyRecord) -> Answer:
        """The first answer to the key, if this is the request it answered."""
        if earlier.fingerprint != self.fingerprint:
            raise IdempotencyKeyReused("the Idempotency-Key was used with another request")
        # Claim and answer are written in one transaction: a visible claim has its answer.
        assert earlier.status_code is not None
        assert earlier.body is not None
        return Answer(earlier.status_code, earlier.body, replayed=True)

    async def first_answer(
        self, uow: UnitOfWorkProtocol, status_code: int, body: dict[str, Any]
    ) -> Answer:
        """Store the answer about to be sent (before the use case commits)."""
        if self.key is not None:
            await uow.idempotency.record_answer(self._identity(), status_code, body)
        return Answer(status_code, body, replayed=False)

    async def first_answer_queueing(
        self,
        uow: UnitOfWorkProtocol,
        status_code: int,
        body: dict[str, Any],
        messages: Sequence[OutgoingMessage],
        now: datetime,
    ) -> Answer:
        """`first_answer`, with `messages` queued in the outbox in the same write."""
        if self.key is None:
            await uow.outbox.add_many(messages, now)
        else:
            await uow.idempotency.record_answer_queueing(
                self._identity(), status_code, body, messages, now
            )
        return Answer(status_code, body, replayed=False)

    def _identity(self) -> IdempotencyIdentity:
        assert self.key is not None
        return IdempotencyIdentity(
            self.owner.role.value, self.owner.subject, self.operation, self.key
        )
