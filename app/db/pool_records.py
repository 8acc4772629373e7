"""An idle pooled connection taken, and put back, without SQLAlchemy's proxy around it.

SQLAlchemy's checkout wraps a pooled connection in a proxy with a weak reference that
returns it if dropped, and runs the pool's events and its reset on return: ~100,000
instructions a borrow and back, as many as 3% of a webhook's (issue 10). The lean paths
send their own statements on the asyncpg connection and begin no transaction through
SQLAlchemy, so they need none of it: they take the record of an idle connection from the
pool's queue, and put it back there, as the pool itself does. Anything that is I/O
(opening a connection again, closing one) is left to the pool, in SQLAlchemy's greenlet.

The pool's checkout and checkin events don't see these borrows (its connect event sees
every connection opened). This leans on the pool's internals (its queue and its
records), pinned by uv.lock; tests/integration/test_pooled_connection.py holds every
case to the pool's own behaviour (a connection dropped, recycled, past the pool's size,
lost).
"""

from __future__ import annotations

from typing import cast

from sqlalchemy.exc import MissingGreenlet
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import QueuePool
from sqlalchemy.pool.base import _ConnectionRecord
from sqlalchemy.util import greenlet_spawn
from sqlalchemy.util import queue as sqla_queue

from app.db.engine import abandon


def take_idle(engine: AsyncEngine) -> tuple[QueuePool, _ConnectionRecord] | None:
    """The record of an idle, healthy pooled connection (and its pool), taken at once;
    None when none is idle, or when taking it would be I/O (opening it again)."""
    pool = engine.sync_engine.pool
    if not isinstance(pool, QueuePool):
        return None
    try:
        # The pool's queue holds its own records (SQLAlchemy casts them so too).
        record = cast(_ConnectionRecord, pool._pool.get_nowait())
    except sqla_queue.Empty:
        return None
    try:
        # A healthy one is returned as it is; one invalidated or due for recycling is
        # opened again, which is I/O and stops at once outside the greenlet.
        record.get_connection()
    except MissingGreenlet:
        # Back, closed: the next borrow in the greenlet opens it (see make_engine).
        pool._pool.put_nowait(record)
        return None
    except BaseException:
        pool._pool.put_nowait(record)
        raise
    return pool, record


async def put_back(pool: QueuePool, record: _ConnectionRecord, lost: BaseException | None) -> None:
    """Back to its pool; lost, closed first, for the pool to open it again when next
    taken: the pool never saw it fail, and must not hand a dead connection out."""
    if lost is not None:
        if isinstance(lost, TimeoutError):
            abandon(record.driver_connection)  # a silent server: don't wait for it
        await greenlet_spawn(record.invalidate, lost)
    if pool._pool.full():  # taken past the pool's size: the pool closes it, which is I/O
        await greenlet_spawn(pool._return_conn, record)
    else:
        pool._return_conn(record)
