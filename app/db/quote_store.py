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

import asyncio
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any, Protocol

import asyncpg
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.pool import PoolProxiedConnection
from sqlalchemy.util import greenlet_spawn

from app.db.connection_gate import gate_of
from app.db.engine import abandon
from app.db.mailbox_memory import MailboxesSeen
from app.db.pg_quote_store import AsyncpgQuoteStore
from app.db.process_memory import ProcessMemory
from app.db.quote_repository import QuoteRecord
from app.db.unit_of_work import UnitOfWork
from app.domain.access import Principal
from app.settings import QuoteStoreKind

# The server went away under us (failover, restart, a pooler's timeout, an admin's kill).
# Or the connection is left mid-operation (a request cancelled during a query).
CONNECTION_LOST: tuple[type[BaseException], ...] = (
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.exceptions.OperatorInterventionError,  # 57P01 admin shutdown and the like
    asyncpg.exceptions.InternalClientError,  # "another operation is in progress"
    OSError,
    TimeoutError,
    asyncio.CancelledError,
)


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
) -> AsyncIterator[QuoteStore]:
    """The store for this database; on PostgreSQL, pricing from `memory` when it can and
    remembering customers' quotes in `orders` for their orders."""
    if engine.dialect.name == "postgresql" and kind is QuoteStoreKind.AUTO:
        async with autocommit_connection(engine) as connection:
            yield AsyncpgQuoteStore(connection, memory)
    else:
        async with UnitOfWork(sessionmaker) as uow:
            yield SessionQuoteStore(uow)


@asynccontextmanager
async def autocommit_connection(engine: AsyncEngine) -> AsyncIterator[Any]:
    """A pooled asyncpg connection on which no transaction is begun: each statement
    commits alone (a quote's insert, an order's one write)."""
    # A fair turn at the pool first (app/db/connection_gate.py).
    async with gate_of(engine):
        # The pooled connection itself, not a SQLAlchemy Connection around it: nothing
        # here executes through SQLAlchemy, and building and closing that Connection
        # cost a quote more CPU than both its statements (issue 10).
        pooled = await engine.raw_connection()
        lost: BaseException | None = None
        try:
            yield pooled.driver_connection
        except CONNECTION_LOST as error:
            lost = error
            raise
        finally:
            await _give_back(pooled, lost)


async def _give_back(pooled: PoolProxiedConnection, lost: BaseException | None) -> None:
    """Back to the pool; or, lost, out of it: the pool never saw this connection fail,
    and must not hand a dead connection to the next request.

    Both may do I/O on asyncpg (closing a connection), so they run in SQLAlchemy's
    greenlet, as its AsyncConnection would run them."""
    if lost is None:
        await greenlet_spawn(pooled.close)
        return
    if isinstance(lost, TimeoutError):
        abandon(pooled.driver_connection)  # a silent server: don't wait for it
    await greenlet_spawn(pooled.invalidate, lost)  # which also returns it, closed
