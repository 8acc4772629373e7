"""Pooled asyncpg connections for the lean paths, which send their own statements:
a connection borrowed from SQLAlchemy's pool with no transaction begun, so each
statement commits alone (a quote's insert, an order's one write, a payment's)."""

from __future__ import annotations

import asyncio
from contextlib import AbstractAsyncContextManager
from types import TracebackType
from typing import Any

import asyncpg
from sqlalchemy.exc import MissingGreenlet
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import PoolProxiedConnection, QueuePool
from sqlalchemy.pool.base import _ConnectionRecord
from sqlalchemy.util import greenlet_spawn

from app.db.connection_gate import gate_of
from app.db.engine import abandon
from app.db.pool_records import put_back, take_idle

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


def autocommit_connection(engine: AsyncEngine) -> AbstractAsyncContextManager[Any]:
    """A pooled asyncpg connection on which no transaction is begun: each statement
    commits alone (a quote's insert, an order's one write)."""
    return _Borrowed(engine)


class _Borrowed:
    """autocommit_connection's context: a class, not @asynccontextmanager, whose
    generator machinery cost each borrow more than the pool's bookkeeping (issue 10).

    An idle connection is taken by its pool record (app/db/pool_records.py); only when
    none is idle does the borrow go through SQLAlchemy's checkout, which opens or waits."""

    __slots__ = ("_connection", "_engine", "_gate", "_pooled", "_taken")

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._gate = gate_of(engine)
        self._taken: tuple[QueuePool, _ConnectionRecord] | None = None
        self._pooled: PoolProxiedConnection | None = None
        self._connection: Any = None

    async def __aenter__(self) -> Any:
        # Borrowed already when a KeptConnection lent it on.
        return self._connection or await self._borrow()

    async def _borrow(self) -> Any:
        # A fair turn at the pool first (app/db/connection_gate.py).
        await self._gate.__aenter__()
        try:
            # The pooled connection itself, not a SQLAlchemy Connection around it:
            # nothing here executes through SQLAlchemy, and building and closing that
            # Connection cost a quote more CPU than both its statements (issue 10).
            self._taken = take_idle(self._engine)
            if self._taken is not None:
                self._connection = self._taken[1].driver_connection
            else:
                self._pooled = await self._engine.raw_connection()
                self._connection = self._pooled.driver_connection
        except BaseException as error:
            await self._gate.__aexit__(type(error), error, error.__traceback__)
            raise
        return self._connection

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        taken, pooled = self._taken, self._pooled
        self._taken = self._pooled = self._connection = None
        lost = exc if isinstance(exc, CONNECTION_LOST) else None
        try:
            if taken is not None:
                await put_back(*taken, lost)
            else:
                assert pooled is not None  # entered
                await give_back(self._engine, pooled, lost)
        finally:
            await self._gate.__aexit__(exc_type, exc, tb)


async def borrow(engine: AsyncEngine) -> PoolProxiedConnection:
    """A connection from `engine`'s pool, for a caller holding a turn at its gate."""
    return _idle_connection(engine) or await engine.raw_connection()


async def give_back(
    engine: AsyncEngine, pooled: PoolProxiedConnection, lost: BaseException | None
) -> None:
    """Back to the pool; or, lost, out of it: the pool never saw this connection fail,
    and must not hand a dead connection to the next request.

    Either may do I/O on asyncpg (closing a connection), so it runs in SQLAlchemy's
    greenlet, as its AsyncConnection would run it, unless it is bookkeeping only."""
    if lost is None:
        if _fits_back(engine, pooled):
            pooled.close()
        else:
            await greenlet_spawn(pooled.close)
        return
    if isinstance(lost, TimeoutError):
        abandon(pooled.driver_connection)  # a silent server: don't wait for it
    await greenlet_spawn(pooled.invalidate, lost)  # which also returns it, closed


# SQLAlchemy runs its pool's checkout and checkin in a new greenlet each, in case they do
# I/O; that costs ~30-50 µs a borrow (issue 10). An idle connection taken, or a healthy
# one put back in a pool with room, is plain bookkeeping: both are done in place, and
# anything else (opening, closing, waiting) in the greenlet.


def _idle_connection(engine: AsyncEngine) -> PoolProxiedConnection | None:
    """A pooled connection taken at once when one is idle; None when taking one is I/O."""
    pool = engine.sync_engine.pool
    if not isinstance(pool, QueuePool) or pool.checkedin() == 0:
        return None
    try:
        return engine.sync_engine.raw_connection()
    except MissingGreenlet:
        # It had been invalidated (its server went away), and opening it again is I/O:
        # the pool has it back, to be opened in the greenlet (see make_engine).
        return None


def _fits_back(engine: AsyncEngine, pooled: PoolProxiedConnection) -> bool:
    """Whether giving `pooled` back is bookkeeping: the pool has room for it (else it is
    closed) and it is healthy. The lean paths never begin a transaction through
    SQLAlchemy's adapter, so its reset on return (a rollback) sends nothing."""
    pool = engine.sync_engine.pool
    return isinstance(pool, QueuePool) and pool.checkedin() < pool.size() and pooled.is_valid


class KeptConnection:
    """A store's statements on one pooled connection: borrowed at the first, kept for the
    next, and given back by `close`, unless a group commit took it over first (`lend`).
    A statement after that borrows another.

    A store reads, decides (no await: nothing else runs meanwhile), then writes through
    the group commit. Kept, the read's connection sends the write's group when the write
    opens one: one borrow per request instead of two (issue 10). When a group is open
    already, it is given back before the write joins that group, so it never sits idle
    while the write waits there."""

    __slots__ = ("_borrowed", "_connection", "_engine", "_lost")

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._borrowed: _Borrowed | None = None
        self._connection: Any = None
        self._lost: BaseException | None = None

    async def fetch(self, sql: str, *args: Any) -> list[Any]:
        connection = self._connection or await self._borrow()
        try:
            rows: list[Any] = await connection.fetch(sql, *args)
        except CONNECTION_LOST as error:
            self._lost = error  # even when the store catches it: not to be pooled again
            raise
        return rows

    async def fetchrow(self, sql: str, *args: Any) -> Any:
        connection = self._connection or await self._borrow()
        try:
            return await connection.fetchrow(sql, *args)
        except CONNECTION_LOST as error:
            self._lost = error
            raise

    def lend(self) -> AbstractAsyncContextManager[Any] | None:
        """The connection, to send a group's writes on and give back when done (entering
        the context returns it); None when none is held. No longer this store's."""
        borrowed = self._borrowed
        if borrowed is None or self._lost is not None:
            return None  # a lost one stays, for close to take it out of the pool
        self._borrowed = self._connection = None
        return borrowed

    async def close(self) -> None:
        """Gives the connection back, if one is held."""
        borrowed, lost = self._borrowed, self._lost
        self._borrowed = self._connection = self._lost = None
        if borrowed is not None:
            await borrowed.__aexit__(None if lost is None else type(lost), lost, None)

    async def __aenter__(self) -> KeptConnection:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._borrowed is None:  # none held: the usual case of a lone write
            return
        if isinstance(exc, CONNECTION_LOST) and self._lost is None:
            self._lost = exc  # cancelled mid-statement, say
        await self.close()

    async def _borrow(self) -> Any:
        borrowed = _Borrowed(self._engine)
        self._connection = await borrowed.__aenter__()
        self._borrowed = borrowed  # once borrowed: a cancelled borrow gave back its own
        return self._connection
