"""The unit of work on PostgreSQL, with the hot statements in plain asyncpg.

Placing an order and applying a payment run a dozen statements in one transaction; at
SQLAlchemy's execution cost (~100-200 µs of CPU each) that is most of the request. This
unit of work owns ONE pooled connection and ONE transaction, begun on the asyncpg
connection itself; the repositories on the hot path (app/db/pg_*_repository.py) speak
asyncpg on it, with statements compiled once from the same tables
(app/db/asyncpg_statements.py), and every other repository keeps using an SQLAlchemy
session bound to that same connection — so both write inside the same transaction, and
a use case runs unchanged on either unit of work (UNIT_OF_WORK=sqlalchemy forces the
ORM one everywhere, should this path ever misbehave).

Why the SQLAlchemy connection is in AUTOCOMMIT mode: SQLAlchemy's asyncpg adapter would
otherwise begin a transaction of its own at its first statement, after the asyncpg
statements that ran outside it. In AUTOCOMMIT it begins none, so its statements run in
the transaction this unit of work began.
"""

from __future__ import annotations

from collections.abc import Callable
from types import TracebackType
from typing import Any, cast

from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

from app.db.connection_gate import gate_of
from app.db.engine import abandon
from app.db.pg_account_repository import AsyncpgAccountRepository
from app.db.pg_holder_repository import AsyncpgHolderRepository
from app.db.pg_idempotency_repository import AsyncpgIdempotencyRepository
from app.db.pg_mailbox_repository import AsyncpgMailboxRepository, LocksTaken
from app.db.pg_order_repository import AsyncpgOrderRepository
from app.db.pg_outbox_repository import AsyncpgOutboxRepository
from app.db.pg_payment_event_repository import AsyncpgPaymentEventRepository
from app.db.pg_plan_change_repository import AsyncpgPlanChangeRepository
from app.db.pg_quote_repository import AsyncpgQuoteRepository
from app.db.pg_saved_method_repository import AsyncpgSavedMethodRepository
from app.db.pooled_connection import CONNECTION_LOST, borrow, give_back
from app.db.unit_of_work import UnitOfWork


class _SessionOnFirstUse:
    """The SQLAlchemy session of a lean unit of work, opened when a repository first
    uses it. Placing an order or applying a payment never does (every repository they
    touch speaks asyncpg), and opening, flushing and closing a session they don't use
    cost about 100 µs of CPU per request."""

    __slots__ = ("_open", "opened")

    def __init__(self, open_session: Callable[[], AsyncSession]) -> None:
        self._open = open_session
        self.opened: AsyncSession | None = None

    def __getattr__(self, name: str) -> Any:
        if self.opened is None:
            self.opened = self._open()
        return getattr(self.opened, name)


class LeanUnitOfWork(UnitOfWork):
    db: Any  # the asyncpg connection the lean repositories speak on

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def __aenter__(self) -> LeanUnitOfWork:
        self._gate = gate_of(self._engine)
        await self._gate.__aenter__()  # a fair turn at the pool (app/db/connection_gate.py)
        try:
            # The pooled connection itself: a SQLAlchemy Connection is built around it
            # only if a repository needs the session (_open_session). Building and
            # closing one on every request cost about 80 µs of CPU.
            pooled = await borrow(self._engine)
        except BaseException:
            await self._gate.__aexit__(None, None, None)
            raise
        self._pooled = pooled
        self._sqlalchemy: AsyncConnection | None = None
        try:
            driver: Any = pooled.driver_connection
            self.db = driver  # asyncpg.Connection
            self._transaction = driver.transaction()
            await self._transaction.start()
        except BaseException as error:
            await self._discard(error)
            await self._gate.__aexit__(None, None, None)
            raise
        self._committed = False
        self._lazy_session = _SessionOnFirstUse(self._open_session)
        self._open_repositories(cast(AsyncSession, self._lazy_session))
        self._install_lean_repositories()
        return self

    def _open_session(self) -> AsyncSession:
        """A session on a SQLAlchemy Connection around the same pooled connection, in
        AUTOCOMMIT, so that its statements run in the transaction begun on asyncpg.
        Setting the isolation level does no I/O here (asyncpg's adapter only notes it),
        and the pool puts the default back when the connection is returned."""
        connection = Connection(self._engine.sync_engine, connection=self._pooled)
        connection.execution_options(isolation_level="AUTOCOMMIT")
        self._sqlalchemy = AsyncConnection(self._engine, connection)
        return AsyncSession(bind=self._sqlalchemy, expire_on_commit=False, autoflush=False)

    def _install_lean_repositories(self) -> None:
        """The hot path's repositories, in asyncpg on `self.db` (one line each)."""
        self.orders = AsyncpgOrderRepository(self.session, self.db)
        self.idempotency = AsyncpgIdempotencyRepository(self.session, self.db)
        self.quotes = AsyncpgQuoteRepository(self.session, self.db)
        self.accounts = AsyncpgAccountRepository(self.session, self.db)
        self.holders = AsyncpgHolderRepository(self.session, self.db)
        taken = LocksTaken()  # a payment's mailbox locks, taken with its order's
        self.payment_events = AsyncpgPaymentEventRepository(self.session, self.db, taken)
        self.mailboxes = AsyncpgMailboxRepository(self.session, self.db, taken)
        self.outbox = AsyncpgOutboxRepository(self.session, self.db)
        self.plan_changes = AsyncpgPlanChangeRepository(self.session, self.db)
        self.saved_methods = AsyncpgSavedMethodRepository(self.session, self.db)

    async def commit(self) -> None:
        session = self._lazy_session.opened
        if session is not None:
            await session.flush()  # what an ORM repository added, into this transaction
        await self._transaction.commit()
        self._committed = True

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            await self._give_back(exc)
        finally:
            await self._gate.__aexit__(None, None, None)

    async def _give_back(self, exc: BaseException | None) -> None:
        """The connection back to the pool, rolled back, or discarded if it failed."""
        try:
            session = self._lazy_session.opened
            if session is not None:
                session.expunge_all()
                await session.close()
            if not self._committed:
                await self._transaction.rollback()
        except BaseException as error:
            await self._discard(error)
            if exc is None:
                raise
            return  # the use case's own error says more than the failed rollback
        if isinstance(exc, CONNECTION_LOST):
            # The connection failed under a statement, or was left mid-operation by a
            # cancelled request: it must not go back to the pool for the next caller.
            await self._discard(exc)
            return
        if self._sqlalchemy is not None:
            await self._sqlalchemy.close()  # which returns the pooled connection
        else:
            await give_back(self._engine, self._pooled, None)

    async def _discard(self, error: BaseException) -> None:
        """Out of the pool: the pool never saw this connection fail."""
        if self._sqlalchemy is None:
            await give_back(self._engine, self._pooled, error)
            return
        if isinstance(error, TimeoutError):
            abandon(self._pooled.driver_connection)  # a silent server: don't wait for it
        await self._sqlalchemy.invalidate()
        await self._sqlalchemy.close()
