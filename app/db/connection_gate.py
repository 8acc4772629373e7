"""First come, first served admission to the pooled connections.

SQLAlchemy's async pool waits on an asyncio.Queue, which is not fair: a connection handed
back wakes the longest waiter, but a request arriving in between takes the connection
first, and the woken waiter goes to the back of the line. Under load (more requests in
flight than pooled connections) a few requests then wait far longer than the rest: at
64 connections quotes and orders had a p99 8x their p50, and some waited past the pool
timeout and got a 503 while newer requests were served. asyncio.Semaphore is fair (a
newcomer queues behind the waiters), so the hot paths queue here, one permit per pooled
connection, and the pool itself never has a waiter.
"""

from __future__ import annotations

import asyncio
import weakref
from types import TracebackType

from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import QueuePool


class ConnectionGate:
    def __init__(self, permits: int, timeout: float | None) -> None:
        self._permits = permits
        self._timeout = timeout
        # asyncio primitives belong to one event loop (tests run several in turn).
        self._semaphores: weakref.WeakKeyDictionary[
            asyncio.AbstractEventLoop, asyncio.Semaphore
        ] = weakref.WeakKeyDictionary()

    def _semaphore(self) -> asyncio.Semaphore:
        loop = asyncio.get_running_loop()
        semaphore = self._semaphores.get(loop)
        if semaphore is None:
            semaphore = self._semaphores[loop] = asyncio.Semaphore(self._permits)
        return semaphore

    async def __aenter__(self) -> None:
        """Wait for a permit, in arrival order; TimeoutError past the pool timeout."""
        semaphore = self._semaphore()
        if not semaphore.locked():  # a permit free and nobody queued: taken at once
            await semaphore.acquire()
            return
        async with asyncio.timeout(self._timeout):
            await semaphore.acquire()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._semaphore().release()


_GATES: weakref.WeakKeyDictionary[AsyncEngine, ConnectionGate] = weakref.WeakKeyDictionary()
_OPEN = ConnectionGate(permits=1 << 30, timeout=None)  # pools that never make anyone wait


def gate_of(engine: AsyncEngine) -> ConnectionGate:
    """The gate in front of `engine`'s pool: as many permits as it holds connections."""
    gate = _GATES.get(engine)
    if gate is None:
        pool = engine.pool
        if isinstance(pool, QueuePool) and pool._max_overflow >= 0:  # < 0: no limit
            gate = ConnectionGate(pool.size() + pool._max_overflow, pool.timeout())
        else:
            gate = _OPEN
        _GATES[engine] = gate
    return gate
