"""Pooled asyncpg connections for the lean paths, which send their own statements:
a connection borrowed from SQLAlchemy's pool with no transaction begun, so each
statement commits alone (a quote's insert, an order's one write, a payment's)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import PoolProxiedConnection
from sqlalchemy.util import greenlet_spawn

from app.db.connection_gate import gate_of
from app.db.engine import abandon

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


class PooledStatements:
    """An asyncpg connection's `fetch` and `fetchrow`, each statement on a pooled
    connection of its own, given back as soon as it answers: a store that reads, then
    writes through a GroupCommit, holds no connection while its write waits there."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def fetch(self, sql: str, *args: Any) -> list[Any]:
        async with autocommit_connection(self._engine) as connection:
            rows: list[Any] = await connection.fetch(sql, *args)
            return rows

    async def fetchrow(self, sql: str, *args: Any) -> Any:
        async with autocommit_connection(self._engine) as connection:
            return await connection.fetchrow(sql, *args)
