"""Use cases of quotes: price a renewal and freeze it; read a quote back."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from app.db.mailbox_memory import MailboxesSeen
from app.db.quote_store import QuoteStore
from app.domain.access import Principal, pending_order_seen_by
from app.domain.errors import DomainError
from app.domain.quote import RenewalRequest, quote_renewal
from app.domain.quote_record import QuoteRecord
from app.services.catalog_cache import CatalogCache
from app.services.errors import IdempotencyKeyReused, ResourceNotFound
from app.services.idempotency import IdempotentRequest

QuoteStoreFactory = Callable[[], AbstractAsyncContextManager[QuoteStore]]


class MailboxesFrom(StrEnum):
    """Where a new quote's mailboxes came from (app/db/mailbox_memory.py)."""

    MEMORY = "memory"  # as this process last read them, found unchanged by the insert
    READ = "read"  # not remembered: read
    READ_AGAIN = "read_again"  # remembered, but changed since (or a doubt): read afresh


@dataclass(frozen=True, slots=True)
class QuoteOutcome:
    record: QuoteRecord
    replayed: bool  # True: an earlier answer to the same Idempotency-Key
    mailboxes_from: MailboxesFrom | None = None  # None: a replay


async def create_quote(
    open_store: QuoteStoreFactory,
    catalog: CatalogCache,
    principal: Principal,
    request: RenewalRequest,
    now: datetime,
    validity: timedelta,
    keyed: IdempotentRequest,
) -> QuoteOutcome:
    """Quote `request` for the mailboxes `principal` may see, and store it frozen.

    Quotes keep their key and fingerprint on the quote row (the hot path stays one or two
    round trips) rather than in idempotency_records: a quote is frozen, so rendering it
    again is its first answer, and the fingerprint is the same canonical one as elsewhere.
    """
    idempotency_key, request_hash = keyed.key, keyed.fingerprint
    price_list = (await catalog.current()).price_list

    def priced(seen: MailboxesSeen) -> QuoteRecord:
        pending = {
            mid: pending_order_seen_by(principal, order) for mid, order in seen.pending.items()
        }
        quote = quote_renewal(
            request, seen.mailboxes, price_list, now, pending_orders=pending, validity=validity
        )
        return QuoteRecord(_new_id(), principal, quote, request_hash)

    async with open_store() as store:
        if idempotency_key is not None:
            earlier = await store.by_idempotency_key(principal, idempotency_key)
            if earlier is not None:
                return _replay(earlier, request_hash)
        ids = [item.mailbox_id for item in request.items]
        seen = await store.mailboxes_to_quote(principal, ids)
        source = MailboxesFrom.READ
        if seen.remembered is not None:
            # Priced from what this process remembers of the mailboxes: stored only if
            # they are unchanged. A refusal, or any other doubt, is settled by reading
            # them afresh (app/db/mailbox_memory.py).
            try:
                record = priced(seen)
            except DomainError:
                record = None
            if record is not None and await store.add(record, idempotency_key, seen):
                return QuoteOutcome(record, replayed=False, mailboxes_from=MailboxesFrom.MEMORY)
            seen = await store.mailboxes_to_quote(principal, ids, afresh=True)
            source = MailboxesFrom.READ_AGAIN
        record = priced(seen)
        if await store.add(record, idempotency_key, seen):
            return QuoteOutcome(record, replayed=False, mailboxes_from=source)
        # A concurrent request with the same key won the insert: answer as it did.
        assert idempotency_key is not None
        winner = await store.by_idempotency_key(principal, idempotency_key)
        assert winner is not None
        return _replay(winner, request_hash)


async def get_quote(
    open_store: QuoteStoreFactory, principal: Principal, quote_id: str
) -> QuoteRecord:
    async with open_store() as store:
        record = await store.get_visible(principal, quote_id)
    if record is None:
        raise ResourceNotFound("quote", quote_id)
    return record


def _replay(earlier: QuoteRecord, request_hash: str | None) -> QuoteOutcome:
    if earlier.request_hash != request_hash:
        raise IdempotencyKeyReused("the Idempotency-Key was used with another request")
    return QuoteOutcome(earlier, replayed=True)


def _new_id() -> str:
    return f"quo_{uuid.uuid4().hex}"
