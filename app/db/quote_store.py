"""Where quotes are written and read: the hot path of the whole API.

Creating a quote needs no multi-statement transaction: it reads the caller's
mailboxes, then makes ONE insert (atomic by itself, and idempotent through its unique
key). So a quote store is not a unit of work: every write is durable when it returns.
On PostgreSQL the store speaks asyncpg directly (two round trips per quote instead of
BEGIN, SELECT, INSERT, COMMIT through the ORM: see docs/benchmarks.md); elsewhere — the
embedded SQLite of `make run` — it goes through the SQLAlchemy session, and so it does
on PostgreSQL when QUOTE_STORE=sqlalchemy (a way around the asyncpg path, should it
ever misbehave, without a release).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from app.db.group_commit import GroupCommit
from app.db.mailbox_memory import MailboxesSeen
from app.db.pg_quote_store import AsyncpgQuoteStore
from app.db.pooled_connection import KeptConnection, autocommit_connection
from app.db.process_memory import ProcessMemory
from app.db.quote_repository import QuoteRecord
from app.db.unit_of_work import UnitOfWork
from app.domain.access import Principal
from app.settings import QuoteStoreKind


class QuoteStore(Protocol):
    async def mailboxes_to_quote(
        self, principal: Principal, ids: Sequence[str], *, afresh: bool = False
    ) -> MailboxesSeen:
        """The mailboxes `principal` may see, read now; or, unless `afresh`, as this
        process last read them (then `remembered`: not yet checked against the database,
        nor for visibility; `add` does both)."""
        ...

    async def add(
        self, record: QuoteRecord, idempotency_key: str | None, seen: MailboxesSeen
    ) -> bool:
        """Store `record`, priced from `seen`, durably. False when the owner already used
        the key, or (`seen.remembered`) when a mailbox changed or isn't visible: then
        read them afresh."""
        ...

    async def by_idempotency_key(self, owner: Principal, key: str) -> QuoteRecord | None: ...

    async def get_visible(self, principal: Principal, quote_id: str) -> QuoteRecord | None:
        """The quote if `principal` may see it (app/db/visibility.py)."""
        ...


class SessionQuoteStore:
    """The portable store: the same repositories the units of work use."""

    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    async def mailboxes_to_quote(  # every read is afresh: this store remembers nothing
        self,
        principal: Principal,
        ids: Sequence[str],
        *,
        afresh: bool = False,  # noqa: ARG002
    ) -> MailboxesSeen:
        mailboxes = await self._uow.mailboxes.visible_by_ids(principal, ids)
        return MailboxesSeen(mailboxes, await self._uow.mailboxes.pending_orders(list(mailboxes)))

    async def add(
        self,
        record: QuoteRecord,
        idempotency_key: str | None,
        seen: MailboxesSeen,  # noqa: ARG002 (read in this request: nothing to check)
    ) -> bool:
        added = await self._uow.quotes.add(record, idempotency_key)
        await self._uow.commit()
        return added

    async def by_idempotency_key(self, owner: Principal, key: str) -> QuoteRecord | None:
        return await self._uow.quotes.by_idempotency_key(owner, key)

    async def get_visible(self, principal: Principal, quote_id: str) -> QuoteRecord | None:
        return await self._uow.quotes.get_visible(principal, quote_id)


@asynccontextmanager
async def open_quote_store(
    engine: AsyncEngine,
    sessionmaker: async_sessionmaker[AsyncSession],
    kind: QuoteStoreKind = QuoteStoreKind.AUTO,
    memory: ProcessMemory | None = None,
    writes: GroupCommit | None = None,
) -> AsyncIterator[QuoteStore]:
    """The store for this database; on PostgreSQL, pricing from `memory` when it can,
    remembering customers' quotes in `orders` for their orders, and inserting each quote
    in the group commit `writes` (each on its own pooled connection without one)."""
    if engine.dialect.name == "postgresql" and kind is QuoteStoreKind.AUTO:
        if writes is not None:
            # The read's connection goes on to the insert's group, or back.
            async with KeptConnection(engine) as kept:
                yield AsyncpgQuoteStore(kept, memory, writes)
            return
        async with autocommit_connection(engine) as connection:
            yield AsyncpgQuoteStore(connection, memory)
    else:
        async with UnitOfWork(sessionmaker) as uow:
            yield SessionQuoteStore(uow)
